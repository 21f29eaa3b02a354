/** Notification settings from the environment (README, docs/api.md "Notifications"). */

export interface NotifyConfig {
  /** How users reach Bridgelog (PUBLIC_URL): links in messages; unset, the server's own URL. */
  publicUrl?: string;
  /** NOTIFY_ALLOW_PRIVATE=1: destinations on loopback and private networks are allowed (tests, labs). */
  allowPrivate: boolean;
  connectTimeoutMs: number;
  responseTimeoutMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** A message still not delivered this long after it was made (or retried) is failed. */
  giveUpAfterMs: number;
  /** A conclusion is sent once it has not changed for this long. */
  conclusionQuietMs: number;
  deriveDelayMs: number;
  sweepMs: number;
  pollMs: number;
  maxInFlight: number;
  /** What a digest "minute" lasts (60 s; tests shorten it). */
  digestMinuteMs: number;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3600_000, d: 86_400_000 };

/** `500ms`, `10s`, `30m`, `24h`, `7d`, or a number of seconds. */
export function duration(value: string | undefined, fallbackMs: number, name: string): number {
  if (value === undefined || value.trim() === '') return fallbackMs;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(value.trim());
  if (!m) throw new Error(`${name} must be a duration such as 500ms, 10s, 30m, 24h or 7d (a bare number is seconds), got "${value}"`);
  return Math.round(Number(m[1]) * UNITS[m[2] ?? 's']!);
}

function publicUrl(value: string | undefined): string | undefined {
  if (!value) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`PUBLIC_URL is not a URL: expected e.g. https://bridgelog.example.com`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`PUBLIC_URL must be an http(s) URL, got "${url.protocol}//…"`);
  return url.href.replace(/\/+$/, '');
}

export function notifyConfigFromEnv(env: NodeJS.ProcessEnv): NotifyConfig {
  return {
    publicUrl: publicUrl(env.PUBLIC_URL),
    allowPrivate: env.NOTIFY_ALLOW_PRIVATE === '1' || env.NOTIFY_ALLOW_PRIVATE === 'true',
    connectTimeoutMs: duration(env.NOTIFY_CONNECT_TIMEOUT, 5_000, 'NOTIFY_CONNECT_TIMEOUT'),
    responseTimeoutMs: duration(env.NOTIFY_RESPONSE_TIMEOUT, 10_000, 'NOTIFY_RESPONSE_TIMEOUT'),
    retryBaseMs: Math.max(1, duration(env.NOTIFY_RETRY_BASE, 2_000, 'NOTIFY_RETRY_BASE')),
    retryMaxMs: duration(env.NOTIFY_RETRY_MAX, 10 * 60_000, 'NOTIFY_RETRY_MAX'),
    giveUpAfterMs: duration(env.NOTIFY_GIVE_UP_AFTER, 24 * 3600_000, 'NOTIFY_GIVE_UP_AFTER'),
    conclusionQuietMs: duration(env.NOTIFY_CONCLUSION_QUIET, 20_000, 'NOTIFY_CONCLUSION_QUIET'),
    deriveDelayMs: duration(env.NOTIFY_DERIVE_DELAY, 1_000, 'NOTIFY_DERIVE_DELAY'),
    sweepMs: Math.max(50, duration(env.NOTIFY_SWEEP, 10_000, 'NOTIFY_SWEEP')),
    pollMs: Math.max(20, duration(env.NOTIFY_POLL, 1_000, 'NOTIFY_POLL')),
    maxInFlight: Math.max(1, Number(env.NOTIFY_MAX_IN_FLIGHT ?? 8) || 8),
    digestMinuteMs: Math.max(1, duration(env.NOTIFY_DIGEST_MINUTE, 60_000, 'NOTIFY_DIGEST_MINUTE')),
  };
}
