/**
 * When each capture on the log ran: its analysis's first and last packet. Analyses are asked for
 * one at a time (each answer carries the capture's whole IO graph) and once per capture, again
 * only when one still running is announced done.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import type { Entry } from '../../../shared/schema/doc';
import { api } from '../api';
import type { AnalysisState } from '../evidence/capture-analysis';
import { useEvidence } from '../evidence/incident-evidence';
import { useStore } from '../store';

export interface CaptureSpan {
  attachmentId: string;
  name: string;
  entryId: string;
  firstPacketAt: string;
  lastPacketAt: string;
}

type Times = { first: string; last: string } | 'none';

export function useCaptureSpans(entries: readonly Entry[]): CaptureSpan[] {
  const { attachments } = useEvidence();
  const files = useStore(attachments.byId);
  const analyses = useStore(attachments.analyses);
  const [times, setTimes] = useState<ReadonlyMap<string, Times>>(new Map());
  const asked = useRef(new Set<string>());

  const captures = useMemo(
    () => entries.flatMap((entry) => entry.attachments.flatMap((id) => (files.get(id)?.kind === 'capture' ? [{ entryId: entry.id, attachmentId: id, name: files.get(id)!.name }] : []))),
    [entries, files],
  );

  // One worker per page, so a capture is never fetched twice and never two at once.
  const queue = useRef<string[]>([]);
  const working = useRef(false);
  const mounted = useRef(true);
  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);

  useEffect(() => {
    for (const { attachmentId: id } of captures) {
      const live = analyses.get(id)?.status;
      if (asked.current.has(id) || (live !== undefined && live !== 'done')) continue;
      asked.current.add(id);
      queue.current.push(id);
    }
    if (working.current) return;
    working.current = true;
    void (async () => {
      for (let id = queue.current.shift(); id !== undefined && mounted.current; id = queue.current.shift()) {
        const answer = await api<AnalysisState>('GET', `/api/attachments/${encodeURIComponent(id)}/analysis?summary=1`).catch(() => undefined);
        if (answer?.status === 'done' || answer?.status === 'failed') {
          const found: Times = answer.status === 'done' && answer.firstPacketAt && answer.lastPacketAt ? { first: answer.firstPacketAt, last: answer.lastPacketAt } : 'none';
          if (mounted.current) setTimes((prev) => new Map(prev).set(id!, found));
        } else {
          asked.current.delete(id); // not analyzed yet (or not reachable): asked again when announced done
        }
      }
      working.current = false;
    })();
  }, [captures, analyses]);

  return useMemo(
    () =>
      captures.flatMap((c) => {
        const t = times.get(c.attachmentId);
        return t && t !== 'none' ? [{ ...c, firstPacketAt: t.first, lastPacketAt: t.last }] : [];
      }),
    [captures, times],
  );
}
