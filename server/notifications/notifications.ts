/**
 * Notifications, put together (issue #20): the store (the storage's: the embedded file or PostgreSQL), the deriver
 * that follows incidents into the outbox, and the dispatcher that sends it. Derivation → outbox →
 * dispatch; docs/architecture.md says why nothing is lost on the way.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { AlertStore } from '../alerts/alert-store.js';
import type { IncidentRooms } from '../collab/incident-rooms.js';
import type { Config } from '../config.js';
import type { IncidentLogs } from '../storage/incident-log.js';
import type { MetadataStore } from '../store/metadata.js';
import { NotificationDeriver } from './deriver.js';
import { NotificationDispatcher } from './dispatcher.js';
import type { NotificationStore } from './notification-store.js';
import type { NotifyConfig } from './notify-config.js';

export interface NotificationsDeps {
  config: Config;
  notify: NotifyConfig;
  /** The server's own URL (known once it listens), for links when PUBLIC_URL is not set. */
  serverUrl: () => string;
  logs: IncidentLogs;
  rooms: IncidentRooms;
  metadata: MetadataStore;
  alerts: AlertStore;
  log: Logger;
  /** Where destinations, notified states and the outbox live (the storage's: storage.ts chooses). */
  store: NotificationStore;
}

export class Notifications {
  private constructor(
    readonly store: NotificationStore,
    readonly deriver: NotificationDeriver,
    readonly dispatcher: NotificationDispatcher,
  ) {}

  static async start(deps: NotificationsDeps): Promise<Notifications> {
    const { notify, log } = deps;
    const { store } = deps;
    const dispatcher = new NotificationDispatcher({
      ...notify,
      store,
      metadata: deps.metadata,
      log,
      owner: `${deps.config.nodeId}/${randomBytes(3).toString('hex')}`,
    });
    const deriver = new NotificationDeriver({
      store,
      logs: deps.logs,
      metadata: deps.metadata,
      alerts: deps.alerts,
      log,
      publicUrl: () => notify.publicUrl ?? deps.serverUrl(),
      quietMs: notify.conclusionQuietMs,
      delayMs: notify.deriveDelayMs,
      sweepMs: notify.sweepMs,
      digestMinuteMs: notify.digestMinuteMs,
      onMessages: () => dispatcher.wake(),
    });
    deps.rooms.onCommitted((room) => deriver.follow(room.incidentId));
    deriver.start();
    dispatcher.start();
    return new Notifications(store, deriver, dispatcher);
  }

  async close(): Promise<void> {
    await this.deriver.close();
    await this.dispatcher.close();
  }
}
