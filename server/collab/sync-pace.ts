import { TimeShare, type TimeShareOptions } from './time-share.js';

/**
 * How much of the server's time each user's sync requests may take. A sync request (step 1) is a few
 * bytes; its answer is an encoding of everything the asker lacks — 37 ms for an incident of 10,000
 * entries here, and a made-up state vector can make it the whole document every time. So the time
 * spent encoding answers is charged to the user who asked (time-share.ts): `burstMs` at once, then
 * `share` of one core. A request past that waits,
 * parked, until the allowance has refilled; a connection with `maxWaiting` requests already waiting
 * is closed with 4429.
 *
 * Honest clients ask once per connection, and an answer for an incident of ordinary size takes well
 * under a millisecond, so they never wait. A script that runs the CLI in a loop on a very large
 * incident is slowed to its share, not refused (it has one request waiting at most). A flood of
 * requests gets `share` of a core per user, not all of it.
 */
export interface SyncPaceOptions extends TimeShareOptions {
  /** Requests of one connection waiting at once; one more closes it with 4429. */
  maxWaiting: number;
}

export const DEFAULT_SYNC_PACE: SyncPaceOptions = { share: 0.1, burstMs: 50, maxWaiting: 4 };

export class SyncPace extends TimeShare {
  constructor(override readonly options: SyncPaceOptions = DEFAULT_SYNC_PACE) {
    super(options);
  }
}
