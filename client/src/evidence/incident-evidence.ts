/**
 * What an incident page knows beyond the shared document: its alerts and its files, live over the
 * server's app events. Entries reach it through context, so the virtualized log need not pass it on.
 */
import { createContext, useContext, useEffect, useState } from 'react';
import { ServerEvent } from '../../../shared/events';
import { connectAppEvents, type AppEvents } from '../app-events';
import { AlertBook } from './alert-book';
import { AttachmentShelf } from './attachment-shelf';

export class IncidentEvidence {
  readonly alerts: AlertBook;
  readonly attachments: AttachmentShelf;
  private readonly events: AppEvents;

  constructor(readonly incidentId: string) {
    this.alerts = new AlertBook(incidentId);
    this.attachments = new AttachmentShelf(incidentId);
    this.events = connectAppEvents();
    this.events.on(ServerEvent.alertChanged, this.alerts.put);
    this.events.on(ServerEvent.captureAnalysis, this.attachments.analysisMoved);
    // Events sent while the socket was down are lost: what they said is fetched on every (re)connect.
    this.events.on('connect', () => {
      void this.alerts.load().catch(() => undefined);
      void this.attachments.load().catch(() => undefined);
    });
    // Offline from the start (no connect): the alerts as this browser last had them, so linked alerts keep their names (#16).
    this.events.once('connect_error', () => void this.alerts.load().catch(() => undefined));
  }

  destroy(): void {
    this.events.disconnect();
  }
}

/** What the page's components read: the live evidence, or a replay's (its alerts as they were then). */
export type PageEvidence = Pick<IncidentEvidence, 'incidentId' | 'alerts' | 'attachments'>;

export const EvidenceContext = createContext<PageEvidence | undefined>(undefined);

export function useEvidence(): PageEvidence {
  const evidence = useContext(EvidenceContext);
  if (!evidence) throw new Error('useEvidence outside an incident page');
  return evidence;
}

/** The incident's evidence while the page using it is on screen. */
export function useIncidentEvidence(incidentId: string): IncidentEvidence | undefined {
  const [evidence, setEvidence] = useState<IncidentEvidence>();
  useEffect(() => {
    const opened = new IncidentEvidence(incidentId);
    setEvidence(opened);
    return () => {
      opened.destroy();
      setEvidence(undefined);
    };
  }, [incidentId]);
  return evidence;
}
