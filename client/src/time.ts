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

const CLOCK_SAMPLES = 5;
let clockOffset: Promise<number> | undefined;

async function measureClockOffset(): Promise<number> {
  const samples: ClockSample[] = [];
  for (let i = 0; i < CLOCK_SAMPLES; i++) {
    const sentAt = Date.now();
    const { serverTime } = await api<{ serverTime: number }>('GET', '/api/clock');
    samples.push({ sentAt, serverTime, receivedAt: Date.now() });
  }
  return estimateClockOffset(samples).offsetMs;
}

/** Measured once per page load; until it succeeds the local clock stands in (and the next call retries). */
export function serverClockOffset(): Promise<number> {
  clockOffset ??= measureClockOffset().catch(() => {
    clockOffset = undefined;
    return 0;
  });
  return clockOffset;
}

export async function serverNow(): Promise<Date> {
  return new Date(Date.now() + (await serverClockOffset()));
}
