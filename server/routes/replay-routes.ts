/**
 * The incident's history for the timeline, the replay and catch-up (docs/api.md, "History"): the
 * event index, the document at any point, the records to play forward from there, and digests of
 * what changed since a point — "since you left" by default. Readable by anyone who can see the
 * incident.
 */
import { Router, type Request, type Response } from 'express';
import * as encoding from 'lib0/encoding';
import { z } from 'zod';
import type { Digest, HistoryEvents, HistoryMark } from '../../shared/history.js';
import { encodeReplayRecord, REPLAY_RECORDS_TYPE } from '../../shared/replay-wire.js';
import { alertsEverOn } from '../alerts/alert-receiver.js';
import { buildDigest } from '../history/digest.js';
import { paced } from './paced.js';
import { authenticated, type RouteContext, requestedIncident, userOf } from './context.js';
import { HttpError, parseBody, parseTime } from './http-error.js';

/** Records per `replay/updates` answer, at most. */
const MAX_RECORDS = 100_000;

const SeenRequest = z.object({ seq: z.number().int().nonnegative().optional() });

function seqParam(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (typeof value !== 'string' || !/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new HttpError(400, `${name}: expected a sequence number`, name);
  return n;
}

export function replayRoutes(ctx: RouteContext): Router {
  const router = Router();

  const incidentFor = (req: Request, res: Response) => requestedIncident(ctx.store, req, res);
  /** The incident's replay, caught up with everything durable. */
  const replayFor = async (req: Request, res: Response) => {
    const incident = incidentFor(req, res);
    const replay = await ctx.replays.of(incident.id, ctx.rooms.logOf(incident.id), ctx.rooms.loaded(incident.id)?.lastSeq);
    return { incident, replay };
  };
  const names = () => new Map(ctx.store.listUsers().map((u) => [u.id, u.name]));

  /** What happened, oldest first; `?after=<seq>` for what came since (the first event may extend one you have). */
  router.get('/api/incidents/:id/events', authenticated(ctx.auth), paced(ctx.timeShare), async (req, res) => {
    const after = seqParam(req.query.after, 'after') ?? 0;
    const { replay } = await replayFor(req, res);
    const events = replay.events.filter((e) => e.toSeq > after);
    const users = names();
    const out: HistoryEvents = {
      seq: replay.seq,
      ...(replay.seq > 0 ? { firstAt: new Date(replay.atOf(1)).toISOString(), lastAt: new Date(replay.atOf(replay.seq)).toISOString() } : {}),
      users: [...new Set(events.map((e) => e.userId))].map((id) => ({ id, name: users.get(id) ?? id })),
      events,
    };
    res.json(out);
  });

  /**
   * The document after record `?seq=`, or as it was at `?at=` (default: now), as a Yjs update —
   * the same content as `GET …/state?at=`, fast enough to drag a slider over.
   */
  router.get('/api/incidents/:id/replay/state', authenticated(ctx.auth), paced(ctx.timeShare), async (req, res) => {
    const seq = seqParam(req.query.seq, 'seq');
    const at = seq === undefined ? parseTime(req.query.at) : undefined;
    const { replay } = await replayFor(req, res);
    const upTo = Math.min(seq ?? replay.seqAt(at!), replay.seq);
    res.set('X-Bridgelog-Seq', String(upTo));
    if (upTo > 0) res.set('X-Bridgelog-At', new Date(replay.atOf(upTo)).toISOString());
    res.type('application/octet-stream').send(Buffer.from(replay.stateAfter(upTo)));
  });

  /** The records after `?after=<seq>` (up to `?limit=`, default and most 100,000), to play forward. */
  router.get('/api/incidents/:id/replay/updates', authenticated(ctx.auth), paced(ctx.timeShare), async (req, res) => {
    const after = seqParam(req.query.after, 'after') ?? 0;
    const limit = seqParam(req.query.limit, 'limit') ?? MAX_RECORDS;
    if (limit < 1 || limit > MAX_RECORDS) throw new HttpError(400, `limit: expected 1 to ${MAX_RECORDS}`, 'limit');
    const { replay } = await replayFor(req, res);
    const encoder = encoding.createEncoder();
    for await (const record of replay.recordsAfter(after, limit)) encodeReplayRecord(encoder, record);
    res.set('X-Bridgelog-Seq', String(replay.seq));
    res.type(REPLAY_RECORDS_TYPE).send(Buffer.from(encoding.toUint8Array(encoder)));
  });

  /**
   * What changed since `?since=<ISO>` or `?sinceSeq=<n>` — by default since the caller last left
   * this incident — up to `?until=<ISO>` (default: now).
   */
  router.get('/api/incidents/:id/digest', authenticated(ctx.auth), paced(ctx.timeShare), async (req, res) => {
    const sinceSeq = seqParam(req.query.sinceSeq, 'sinceSeq');
    const sinceAt = req.query.since === undefined ? undefined : parseTime(req.query.since, 'since');
    const untilAt = parseTime(req.query.until, 'until');
    const { incident, replay } = await replayFor(req, res);
    const user = userOf(res);
    const untilSeq = replay.seqAt(untilAt);
    const until: HistoryMark = { seq: untilSeq, at: new Date(untilAt).toISOString() };
    let since: HistoryMark;
    const lastSeen = ctx.seen.get(user.id, incident.id);
    if (sinceSeq !== undefined) since = { seq: Math.min(sinceSeq, replay.seq), at: sinceSeq > 0 && sinceSeq <= replay.seq ? new Date(replay.atOf(sinceSeq)).toISOString() : incident.createdAt };
    else if (sinceAt !== undefined) since = { seq: replay.seqAt(sinceAt), at: new Date(sinceAt).toISOString() };
    // Never here before: from the declaration (the server's first record, which wrote the incident's
    // title, severity and status), so what is listed is what happened since.
    else since = lastSeen ?? { seq: Math.min(1, replay.seq), at: incident.createdAt };
    if (since.seq > until.seq) throw new HttpError(400, 'since: must not be after until', 'since');
    const users = names();
    const alerts = alertsEverOn(ctx.alerts.alerts().filter((a) => ctx.alertReceiver.visibleTo(user, a)), incident.id);
    const byDefault = sinceSeq === undefined && sinceAt === undefined;
    const items = buildDigest(incident.id, replay, since, until, alerts, (id) => ({ id, name: users.get(id) ?? id }));
    const out: Digest = {
      since,
      until,
      sinceLastSeen: byDefault && lastSeen !== undefined,
      // Never here before: the summary from the start (#16), so a latecomer does not face an empty box.
      ...(byDefault && lastSeen === undefined ? { firstVisit: true } : {}),
      // News is what others did: one's own changes (made offline and synced since, say) are left out.
      items: byDefault ? items.filter((i) => !(i.by.length > 0 && i.by.every((u) => u.id === user.id))) : items,
    };
    res.json(out);
  });

  /** Marks the history up to `seq` (default: all of it) as seen by the caller. */
  router.post('/api/incidents/:id/seen', authenticated(ctx.auth), async (req, res) => {
    const body = parseBody(SeenRequest, req.body ?? {});
    const { incident, replay } = await replayFor(req, res);
    const seq = Math.min(body.seq ?? replay.seq, replay.seq);
    const mark: HistoryMark = { seq, at: new Date(seq < replay.seq ? replay.atOf(seq) || Date.parse(incident.createdAt) : Date.now()).toISOString() };
    await ctx.seen.set(userOf(res).id, incident.id, mark);
    res.json(mark);
  });

  return router;
}
