/**
 * socket.io app events. Names say which way they travel: `server:` is server → client,
 * `client:` is client → server (with an acknowledgement callback).
 */
import type { Alert } from './alerts.js';
import type { Incident } from './model.js';

export const ServerEvent = {
  incidentCreated: 'server:incident-created',
  incidentUpdated: 'server:incident-updated',
  /** An incident this user can no longer see (restricted to others): forget it. */
  incidentGone: 'server:incident-gone',
  /** An alert arrived, changed state, or was attached or detached. */
  alertChanged: 'server:alert-changed',
  /** A capture's analysis moved on: pending, running (with bytes read), done or failed. */
  captureAnalysis: 'server:capture-analysis',
} as const;

export interface CaptureAnalysisEvent {
  attachmentId: string;
  incidentId: string;
  status: 'pending' | 'running' | 'done' | 'failed';
  bytesRead?: number;
  totalBytes?: number;
}

export const ClientEvent = {
  /** Acknowledged with the server's clock: `{ serverTime: number }` (ms since epoch, UTC). */
  clock: 'client:clock',
} as const;

export interface ServerToClientEvents {
  [ServerEvent.incidentCreated]: (incident: Incident) => void;
  [ServerEvent.incidentUpdated]: (incident: Incident) => void;
  [ServerEvent.incidentGone]: (gone: { id: string }) => void;
  [ServerEvent.alertChanged]: (alert: Alert) => void;
  [ServerEvent.captureAnalysis]: (event: CaptureAnalysisEvent) => void;
}

export interface ClientToServerEvents {
  [ClientEvent.clock]: (ack: (reply: { serverTime: number }) => void) => void;
}
