/**
 * The incident's event index (GET /api/incidents/:id/events) while the timeline is on screen:
 * fetched whole once, then only what came since (`?after=`) a moment after the document changes.
 * A remote change is in the history by the time it arrives here; this browser's own once it is
 * saved, so a change of the save state asks again too.
 */
import { useEffect, useState } from 'react';
import type { HistoryEvent, HistoryEvents } from '../../../shared/history';
import type { IncidentSession } from '../collab/incident-session';
import { api } from '../api';
import { mergeEvents } from './timeline-items';

const QUIET_MS = 300;
const AT_MOST_EVERY_MS = 1000;

export interface HistoryIndex {
  events: readonly HistoryEvent[];
  /** User id → name, for everyone the events name. */
  users: ReadonlyMap<string, string>;
}

export function useHistoryEvents(session: IncidentSession): HistoryIndex {
  const [index, setIndex] = useState<HistoryIndex>({ events: [], users: new Map() });

  useEffect(() => {
    let seq: number | undefined;
    let stopped = false;
    let fetching = false;
    let again = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let firstAskedAt = 0;

    const fetchEvents = async () => {
      if (fetching) return void (again = true);
      fetching = true;
      try {
        const after = seq === undefined ? '' : `?after=${seq}`;
        const answer = await api<HistoryEvents>('GET', `/api/incidents/${encodeURIComponent(session.incidentId)}/events${after}`);
        if (stopped) return;
        seq = answer.seq;
        if (answer.events.length > 0) {
          setIndex((prev) => ({
            events: mergeEvents(prev.events, answer.events),
            users: new Map([...prev.users, ...answer.users.map((u) => [u.id, u.name] as const)]),
          }));
        }
      } catch {
        // Offline or refused: the timeline shows what the document has; the next change asks again.
      } finally {
        fetching = false;
        if (again && !stopped) {
          again = false;
          changed();
        }
      }
    };

    /** A burst of changes (someone typing) is one request, at most every second. */
    const changed = () => {
      const now = Date.now();
      if (timer === undefined) firstAskedAt = now;
      clearTimeout(timer);
      timer = setTimeout(() => {
        timer = undefined;
        void fetchEvents();
      }, Math.min(QUIET_MS, Math.max(0, firstAskedAt + AT_MOST_EVERY_MS - now)));
    };

    void fetchEvents();
    session.doc.on('update', changed);
    const unsubscribe = session.save.subscribe(changed);
    return () => {
      stopped = true;
      clearTimeout(timer);
      session.doc.off('update', changed);
      unsubscribe();
    };
  }, [session]);

  return index;
}
