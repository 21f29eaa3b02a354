import os from 'node:os';
import path from 'node:path';
import { Limits } from '../shared/protocol.js';
import { DefaultUploadLimits, type AttachmentKind } from '../shared/attachments.js';
import { parseTrustProxy, type TrustProxy } from './auth/trust-proxy.js';
import { DEFAULT_REFUSAL_PACE, type RefusalPace } from './collab/refusals.js';
import { DEFAULT_SYNC_PACE, type SyncPaceOptions } from './collab/sync-pace.js';
import type { TimeShareOptions } from './collab/time-share.js';
import { notifyConfigFromEnv, type NotifyConfig } from './notifications/notify-config.js';
import { signInConfigFromEnv, type SignInConfig } from './auth/sign-in-config.js';

/**
 * A fifth of a core per user, after a second and a half at once. A typist's frames cost well under a
 * millisecond a second, the web app's incremental history reads a few milliseconds, an export of a
 * 5,000-entry incident about half a second: only floods of costly work ever wait.
 */
const DEFAULT_TIME_SHARE: TimeShareOptions = { share: 0.2, burstMs: 1500 };

export interface Config {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  dataDir: string;
  /** On a first start with an empty DATA_DIR: the API token of the admin user `admin`. */
  bootstrapToken?: string;
  /** Browser origins allowed on the sockets besides the server's own (e.g. a reverse proxy's). */
  allowedOrigins: string[];
  /** Unload an incident's document this long after its last client left. */
  idleUnloadMs: number;
  /** A visit to an incident at least this long moves the user's "since you left" mark when it ends. */
  seenAfterMs: number;
  /** Search: how long after a change an incident is read again for the index (a burst of keystrokes is read once). */
  searchDelayMs: number;
  /** Write a checkpoint after this many updates since the last one. */
  checkpointEvery: number;
  maxMessageBytes: number;
  /** Collaboration sockets one user may have open at once (tabs, scripts); more are closed with 4429. */
  maxSocketsPerUser: number;
  /** How fast a user whose connections keep being refused may open new ones (collab/refusals.ts). */
  refusalPace: RefusalPace;
  /** How much of the server's time each user's sync requests may take (collab/sync-pace.ts). */
  syncPace: SyncPaceOptions;
  /**
   * How much of the server's time each user may take with what they send on collaboration sockets and
   * with exports and history reads (collab/time-share.ts, routes/paced.ts).
   */
  timeShare: TimeShareOptions;
  /** Mark the session cookie Secure (serve behind HTTPS). */
  cookieSecure: boolean;
  /** Proxies whose X-Forwarded-For names the client (auth/trust-proxy.ts); false: the socket's peer. */
  trustProxy: TrustProxy;
  /** The bearer token Prometheus scrapes /metrics with (admins may look too). */
  metricsToken?: string;
  /** /metrics open to anyone who can reach the server (a private network). */
  metricsPublic: boolean;
  logLevel: string;
  /** Largest upload per kind, bytes. */
  uploadLimits: Record<AttachmentKind, number>;
  /** Directory of the built web app; absent in tests that do not need it. */
  clientDir?: string;
  /** Several nodes (docs/several-nodes.md): PostgreSQL holds everything durable; unset, DATA_DIR does. */
  databaseUrl?: string;
  /** Fast delivery between nodes; without it they find each other's changes by polling PostgreSQL. */
  redisUrl?: string;
  /** This node's name among the nodes (logs, metrics, the node_id of what it commits). */
  nodeId: string;
  /** How often a node reads the heads of its loaded incidents from PostgreSQL, whatever Redis says. */
  clusterPollMs: number;
  /** Notifications (#20): PUBLIC_URL, NOTIFY_* (notifications/notify-config.ts). */
  notify: NotifyConfig;
  /** Sign-in (#17): local passwords and/or OpenID Connect, LOCAL_LOGIN, OIDC_* (auth/sign-in-config.ts). */
  signIn: SignInConfig;
}

function postgresUrl(value: string | undefined): string | undefined {
  if (!value) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`DATABASE_URL is not a URL: expected postgres://user:password@host:5432/database`);
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new Error(`DATABASE_URL must be a postgres:// URL, got "${url.protocol}//…"`);
  }
  return value;
}

function redisUrl(value: string | undefined, databaseUrl: string | undefined): string | undefined {
  if (!value) return undefined;
  if (!databaseUrl) throw new Error('REDIS_URL needs DATABASE_URL: Redis only carries changes between nodes that share a PostgreSQL');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error('REDIS_URL is not a URL: expected redis://host:6379');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new Error(`REDIS_URL must be a redis:// or rediss:// URL, got "${url.protocol}//…"`);
  return value;
}

function int(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${value}"`);
  return n;
}

/** A share of one core: a positive number (above 1 for a machine where nobody needs pacing, e.g. a benchmark). */
function share(value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`USER_TIME_SHARE must be a positive number (a share of one core, e.g. 0.2), got "${value}"`);
  return n;
}

/** The default pace scaled to `perSecond` (a burst of two seconds' worth); at least 1 a second. */
export function refusalPace(perSecond: number): RefusalPace {
  const rate = Math.max(1, perSecond);
  return { ...DEFAULT_REFUSAL_PACE, perSecond: rate, burst: 2 * rate };
}

export function configFromEnv(env: NodeJS.ProcessEnv, clientDir?: string): Config {
  const databaseUrl = postgresUrl(env.DATABASE_URL);
  return {
    databaseUrl,
    redisUrl: redisUrl(env.REDIS_URL, databaseUrl),
    nodeId: env.NODE_ID || `${os.hostname()}-${process.pid}`,
    clusterPollMs: Math.max(50, int(env.CLUSTER_POLL_MS, 2000, 'CLUSTER_POLL_MS')),
    host: env.HOST || '127.0.0.1',
    port: int(env.PORT, 8080, 'PORT'),
    dataDir: path.resolve(env.DATA_DIR || './data'),
    bootstrapToken: env.BRIDGELOG_BOOTSTRAP_TOKEN || undefined,
    allowedOrigins: (env.ALLOWED_ORIGINS ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    idleUnloadMs: int(env.IDLE_UNLOAD_MS, 60_000, 'IDLE_UNLOAD_MS'),
    seenAfterMs: int(env.SEEN_AFTER_MS, 30_000, 'SEEN_AFTER_MS'),
    searchDelayMs: int(env.SEARCH_DELAY_MS, 250, 'SEARCH_DELAY_MS'),
    checkpointEvery: int(env.CHECKPOINT_EVERY, 1000, 'CHECKPOINT_EVERY'),
    maxMessageBytes: int(env.MAX_MESSAGE_BYTES, Limits.maxMessageBytes, 'MAX_MESSAGE_BYTES'),
    maxSocketsPerUser: Math.max(1, int(env.MAX_SOCKETS_PER_USER, 100, 'MAX_SOCKETS_PER_USER')),
    refusalPace: refusalPace(int(env.REFUSALS_PER_SECOND, DEFAULT_REFUSAL_PACE.perSecond, 'REFUSALS_PER_SECOND')),
    syncPace: DEFAULT_SYNC_PACE,
    timeShare: { ...DEFAULT_TIME_SHARE, share: share(env.USER_TIME_SHARE, DEFAULT_TIME_SHARE.share) },
    cookieSecure: env.COOKIE_SECURE === '1' || env.COOKIE_SECURE === 'true',
    trustProxy: parseTrustProxy(env.TRUST_PROXY),
    metricsToken: env.METRICS_TOKEN || undefined,
    metricsPublic: env.METRICS_PUBLIC === '1' || env.METRICS_PUBLIC === 'true',
    logLevel: env.LOG_LEVEL || 'info',
    uploadLimits: {
      image: int(env.UPLOAD_LIMIT_IMAGE_MB, DefaultUploadLimits.image / 2 ** 20, 'UPLOAD_LIMIT_IMAGE_MB') * 2 ** 20,
      capture: int(env.UPLOAD_LIMIT_CAPTURE_MB, DefaultUploadLimits.capture / 2 ** 20, 'UPLOAD_LIMIT_CAPTURE_MB') * 2 ** 20,
      text: int(env.UPLOAD_LIMIT_TEXT_MB, DefaultUploadLimits.text / 2 ** 20, 'UPLOAD_LIMIT_TEXT_MB') * 2 ** 20,
      other: int(env.UPLOAD_LIMIT_OTHER_MB, DefaultUploadLimits.other / 2 ** 20, 'UPLOAD_LIMIT_OTHER_MB') * 2 ** 20,
    },
    clientDir,
    notify: notifyConfigFromEnv(env),
    signIn: signInConfigFromEnv(env),
  };
}
