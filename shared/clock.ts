/**
 * Clock-offset estimate against the server, as NTP does it: of several round trips, trust the one
 * with the shortest round trip, and assume the server read its clock half-way through it.
 */
export interface ClockSample {
  /** Client clock when the request left (ms). */
  sentAt: number;
  /** Server clock in its reply (ms). */
  serverTime: number;
  /** Client clock when the reply arrived (ms). */
  receivedAt: number;
}

export interface ClockOffset {
  /** Add to the client clock to get the server clock (ms). */
  offsetMs: number;
  /** Round trip of the sample used: the offset is good to ± half of it. */
  roundTripMs: number;
}

export function estimateClockOffset(samples: readonly ClockSample[]): ClockOffset {
  if (samples.length === 0) throw new Error('estimateClockOffset needs at least one sample');
  let best: ClockOffset | undefined;
  for (const s of samples) {
    const roundTripMs = s.receivedAt - s.sentAt;
    const offsetMs = s.serverTime - (s.sentAt + roundTripMs / 2);
    if (!best || roundTripMs < best.roundTripMs) best = { offsetMs, roundTripMs };
  }
  return best!;
}
