/**
 * Times are shown in UTC to the second, the same for everyone on the bridge: `2026-03-04 06:12:30Z`.
 * Times written into the log use the server's clock, so an entry from a laptop whose clock is off
 * still sorts where it happened.
 */
import { estimateClockOffset, type ClockSample } from '../../shared/clock';
import { api } from './api';

export function formatUtc(iso: string): string {
  const time = new Date(iso);
  if (Number.isNaN(time.getTime())) return iso;
  return `${time.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

/** To the millisecond, where it matters which record a moment includes (a replay): `2026-03-04 06:12:30.500 UTC`. */
export function formatUtcMs(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 23).replace('T', ' ')} UTC`;
}

/** Shown on hover: the same moment on this computer's clock face. */
export function formatLocal(iso: string): string {
  const time = new Date(iso);
  if (Number.isNaN(time.getTime())) return iso;
  return `${time.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' })} local time`;
}

/** `45s`, `12m`, `2h 14m`, `3d 4h`: how long an incident has been going on. */
export function formatElapsed(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m`;
  return `${s}s`;
}

const FUTURE_SLACK_MS = 60_000;

/**
 * When a test was run, as a responder types it: empty for now; `06:12` or `06:12:30` (today, UTC;
 * yesterday if that is still ahead); `2026-03-04 06:12[:30][Z]`; or `-15m`, `-2h`, `-90s` ago.
 * Answers the time, or a message saying what is wrong.
 */
export function parseRanAt(text: string, now: Date): Date | string {
  const input = text.trim();
  if (!input) return now;
  const ago = /^-(\d+)\s*(s|m|h|d)$/i.exec(input);
  if (ago) {
    const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[ago[2]!.toLowerCase() as 's' | 'm' | 'h' | 'd'];
    return new Date(now.getTime() - Number(ago[1]) * unit);
  }
  let time: Date;
  const clock = /^(\d{1,2}):(\d{2})(?::(\d{2}))?Z?$/i.exec(input);
  if (clock) {
    const [h, m, s] = [Number(clock[1]), Number(clock[2]), Number(clock[3] ?? 0)];
    if (h > 23 || m > 59 || s > 59) return `${input} is not a time of day`;
    time = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), h, m, s));
    if (time.getTime() > now.getTime() + FUTURE_SLACK_MS) time = new Date(time.getTime() - 86_400_000);
  } else {
    const full = /^(\d{4}-\d{2}-\d{2})[ T](\d{1,2}):(\d{2})(?::(\d{2})(\.\d{1,3})?)?\s*(Z|[+-]\d{2}:\d{2})?$/i.exec(input);
    if (!full) return 'write the time as 06:12, 2026-03-04 06:12:30Z or -15m';
    const [, date, h, m, s = '00', fraction = '', zone = 'Z'] = full;
    time = new Date(`${date}T${h!.padStart(2, '0')}:${m}:${s}${fraction}${zone.toUpperCase()}`);
    if (Number.isNaN(time.getTime())) return `${input} is not a valid time`;
  }
  if (time.getTime() > now.getTime() + FUTURE_SLACK_MS) return `${formatUtc(time.toISOString())} is in the future`;
  return time;
}

const CLOCK_SAMPLES = 5;
const OFFSET_KEY = 'bridgelog:clock-offset';
let clockOffset: Promise<number> | undefined;
/** The best offset known right now, for clocks that tick on screen. */
let knownOffset: number | undefined;

async function measureClockOffset(): Promise<number> {
  const samples: ClockSample[] = [];
  for (let i = 0; i < CLOCK_SAMPLES; i++) {
    const sentAt = Date.now();
    const { serverTime } = await api<{ serverTime: number }>('GET', '/api/clock');
    samples.push({ sentAt, serverTime, receivedAt: Date.now() });
  }
  const { offsetMs } = estimateClockOffset(samples);
  localStorage.setItem(OFFSET_KEY, String(offsetMs));
  knownOffset = offsetMs;
  return offsetMs;
}

/** The last offset measured in this browser: a laptop's skew changes slowly, so it serves offline. */
function rememberedOffset(): number {
  const saved = Number(localStorage.getItem(OFFSET_KEY));
  return Number.isFinite(saved) ? saved : 0;
}

/** Measured once per page load; until it succeeds the remembered offset stands in (and the next call retries). */
export function serverClockOffset(): Promise<number> {
  clockOffset ??= measureClockOffset().catch(() => {
    clockOffset = undefined;
    return rememberedOffset();
  });
  return clockOffset;
}

export async function serverNow(): Promise<Date> {
  return new Date(Date.now() + (await serverClockOffset()));
}

/** Now on the server's clock, as well as it is known at this moment (the remembered offset until measured). */
export function serverNowSync(): Date {
  knownOffset ??= rememberedOffset();
  return new Date(Date.now() + knownOffset);
}
