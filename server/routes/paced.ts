/**
 * Reads that cost the server time in proportion to an incident's size — exports, the history and
 * its replays — get each user a share of the server's time (collab/time-share.ts), like what their
 * collaboration frames cost: one viewer asking for exports in a loop waits for their share instead of
 * holding the event loop for everyone. What a request took (until its answer was sent) is charged to
 * its user; a request of a user past their share waits, or is answered 429 with Retry-After when the
 * wait would be long. The web app's own calls cost a few milliseconds and never wait.
 */
import type { NextFunction, Request, Response } from 'express';
import type { TimeShare } from '../collab/time-share.js';
import { userOf } from './context.js';
import { HttpError } from './http-error.js';

/** Longer than this and the request is refused (429) rather than held. */
const MAX_WAIT_MS = 5_000;

/**
 * A handler whose answer ends in a long download (a zip of gigabytes of captures) sets
 * `res.locals.pacedUntil = performance.now()` where the server's own work ends: only that is charged.
 */
export function paced(share: TimeShare) {
  return (_req: Request, res: Response, next: NextFunction): void => {
    const userId = userOf(res).id;
    const waitMs = share.waitMs(userId);
    if (waitMs > MAX_WAIT_MS) {
      const seconds = Math.ceil(waitMs / 1000);
      res.set('Retry-After', String(seconds));
      return next(new HttpError(429, `you have asked for a lot of the server's time in a short while: retry in ${seconds} s`));
    }
    const start = () => {
      const started = performance.now();
      res.once('close', () => share.charge(userId, ((res.locals.pacedUntil as number | undefined) ?? performance.now()) - started));
      next();
    };
    if (waitMs > 0) setTimeout(start, waitMs).unref();
    else start();
  };
}
