/**
 * The replay: the document after any record equals a document built from exactly the records up to
 * it, for random edits by several people (text typed and deleted, fields overwritten, entries and
 * hypotheses removed), while the log keeps growing; and the event index says what each did.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import {
  createEntry,
  createHypothesis,
  entriesOf,
  entryText,
  hypothesesOf,
  metaOf,
  setHypothesisStatus,
  setMeta,
  updateEntry,
} from '../../shared/schema/doc.js';
import { IncidentReplay, Replays } from '../../server/history/replay.js';
import { UpdateLog } from '../../server/storage/embedded/update-log.js';
import { EmbeddedIncidentLog } from '../../server/storage/embedded/embedded-incident-log.js';
import { seededRandom } from '../helpers/random.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** A real update log on disk, written the way the server writes it. */
function openLog() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bridgelog-replay-'));
  dirs.push(dir);
  const history = new EmbeddedIncidentLog(path.basename(dir), dir, pino({ level: 'silent' }));
  const log = new UpdateLog(history.history.logFile, { size: 0, lastSeq: 0, lastAt: 0 }, () => undefined, () => undefined);
  return { history, log };
}

/** Several people editing their own copies, every update logged in the order the server got it. */
function team(log: UpdateLog, names: string[]) {
  const updates: Uint8Array[] = [];
  const docs = names.map((name) => {
    const doc = new Y.Doc();
    doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin === 'remote') return;
      log.append(name, update);
      updates.push(update);
      for (const other of docs) if (other !== doc) Y.applyUpdate(other, update, 'remote');
    });
    return doc;
  });
  return { docs, updates };
}

/** JSON with object keys sorted: a Y.Map's key order depends on the order its items were integrated. */
const canonical = (value: unknown): string =>
  value !== null && typeof value === 'object' && !Array.isArray(value)
    ? `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`
    : Array.isArray(value) ? `[${value.map(canonical).join(',')}]` : JSON.stringify(value);

/** Everything in the document (a root type shows in toJSON only once it has been asked for). */
const contentOf = (doc: Y.Doc) => canonical({ meta: metaOf(doc).toJSON(), entries: entriesOf(doc).toJSON(), hypotheses: hypothesesOf(doc).toJSON() });

function docFrom(updates: Uint8Array[]): Y.Doc {
  const doc = new Y.Doc();
  for (const u of updates) Y.applyUpdate(doc, u);
  return doc;
}

describe('replay', () => {
  it('gives, after any record, exactly the document those records build — as the log grows', async () => {
    const { history, log } = openLog();
    const { docs, updates } = team(log, ['kim', 'lee', 'ana']);
    const random = seededRandom(7);
    const pick = <T,>(xs: T[]): T => xs[Math.floor(random() * xs.length)]!;
    const replay = new IncidentReplay(history);

    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 400; i++) {
        const doc = pick(docs);
        const ids = [...entriesOf(doc).keys()];
        const roll = random();
        if (ids.length === 0 || roll < 0.1) {
          createEntry(doc, { kind: pick(['test', 'note', 'conclusion'] as const), title: `t${i}`, ranAt: new Date(Date.UTC(2026, 2, 4, 6, 0, i)).toISOString() });
        } else if (roll < 0.6) {
          const text = entryText(doc, pick(ids), pick(['command', 'observations', 'conclusion'] as const))!;
          if (text.length > 4 && random() < 0.4) text.delete(Math.floor(random() * (text.length - 2)), 2);
          else text.insert(Math.floor(random() * (text.length + 1)), pick(['rtt ok ', 'loss 3% ', 'é→ ']));
        } else if (roll < 0.75) {
          updateEntry(doc, pick(ids), { title: `renamed ${i}` });
        } else if (roll < 0.8) {
          entriesOf(doc).delete(pick(ids));
        } else if (roll < 0.9) {
          const hs = [...hypothesesOf(doc).keys()];
          if (hs.length === 0 || random() < 0.3) createHypothesis(doc, `cause ${i}`);
          else setHypothesisStatus(doc, pick(hs), pick(['supported', 'ruled-out', 'confirmed'] as const));
        } else {
          setMeta(doc, { status: pick(['investigating', 'monitoring', 'resolved'] as const) });
        }
      }
      await log.whenDurable();
      await replay.catchUp();
      expect(replay.seq).toBe(updates.length);
      const seqs = [0, 1, updates.length, ...Array.from({ length: 25 }, () => 1 + Math.floor(random() * updates.length))];
      for (const seq of seqs) {
        const replayed = new Y.Doc();
        Y.applyUpdate(replayed, replay.stateAfter(seq));
        const reference = docFrom(updates.slice(0, seq));
        expect(contentOf(replayed), `after record ${seq}`).toBe(contentOf(reference));
        if (seq > 0) expect(entriesOf(replayed).size + hypothesesOf(replayed).size + metaOf(replayed).size).toBeGreaterThan(0);
        expect(Y.encodeStateVector(replayed)).toEqual(Y.encodeStateVector(reference));
      }
    }
    // The newest state equals what everyone has.
    const latest = new Y.Doc();
    Y.applyUpdate(latest, replay.stateAfter(replay.seq));
    expect(contentOf(latest)).toBe(contentOf(docs[0]!));
    replay.destroy();
    await log.close();
  });

  it('replays what an offline client sends when it comes back, deleted parts already collected', async () => {
    const { history, log } = openLog();
    const offline = new Y.Doc(); // garbage collection on, as in every browser
    const id = createEntry(offline, { kind: 'test', title: 'from the train', ranAt: '2026-03-04T06:00:00.000Z' });
    const text = entryText(offline, id, 'observations')!;
    text.insert(0, 'typed then mostly deleted');
    text.delete(5, 15);
    entriesOf(offline).set('gone', new Y.Map());
    entriesOf(offline).delete('gone');
    const sync = Y.encodeStateAsUpdate(offline); // holds GC structs for what was deleted
    log.append('kim', sync);
    text.insert(text.length, ' and more');
    const more = Y.encodeStateAsUpdate(offline, Y.encodeStateVectorFromUpdate(sync));
    log.append('kim', more);
    await log.whenDurable();

    const replay = new IncidentReplay(history);
    await replay.catchUp();
    for (const [seq, updates] of [[1, [sync]], [2, [sync, more]]] as const) {
      const replayed = new Y.Doc();
      Y.applyUpdate(replayed, replay.stateAfter(seq));
      expect(contentOf(replayed)).toBe(contentOf(docFrom([...updates])));
    }
    expect(entryText(docFrom([sync, more]), id, 'observations')!.toString()).toBe('typedleted and more');
    replay.destroy();
    await log.close();
  });

  it('indexes who did what: entries, runs of typing as one event, verdicts, incident status', async () => {
    const { history, log } = openLog();
    const { docs } = team(log, ['kim', 'lee']);
    const [kim, lee] = docs as [Y.Doc, Y.Doc];
    const id = createEntry(kim, { kind: 'test', title: 'ping the gateway', ranAt: '2026-03-04T06:00:00.000Z' });
    const text = entryText(kim, id, 'observations')!;
    for (const word of ['3 ', 'of ', '100 ', 'lost']) text.insert(text.length, word); // four records, one event
    const h = createHypothesis(lee, 'uplink saturated');
    setHypothesisStatus(lee, h, 'ruled-out');
    setMeta(lee, { status: 'monitoring' });
    kim.transact(() => {
      entriesOf(kim).get(id)!.get('attachments');
      (entriesOf(kim).get(id)!.get('attachments') as Y.Array<string>).push(['att1']);
    });
    entriesOf(kim).delete(id);
    await log.whenDurable();

    const replay = new IncidentReplay(history);
    await replay.catchUp();
    const summary = replay.events.map((e) => [e.userId, e.seq, e.toSeq, e.changes.map((c) => c.kind).join('+')]);
    expect(summary).toEqual([
      ['kim', 1, 1, 'entry-added'],
      ['kim', 2, 5, 'entry-changed'],
      ['lee', 6, 6, 'hypothesis-added'],
      ['lee', 7, 7, 'verdict'],
      ['lee', 8, 8, 'incident'],
      ['kim', 9, 9, 'entry-changed'],
      ['kim', 10, 10, 'entry-removed'],
    ]);
    expect(replay.events[0]!.changes[0]).toMatchObject({ entry: id, entryKind: 'test', title: 'ping the gateway' });
    expect(replay.events[1]!.changes[0]).toMatchObject({ entry: id, fields: ['observations'] });
    expect(replay.events[3]!.changes[0]).toMatchObject({ hypothesis: h, statement: 'uplink saturated', status: 'ruled-out' });
    expect(replay.events[4]!.changes[0]).toEqual({ kind: 'incident', field: 'status', value: 'monitoring' });
    expect(replay.events[5]!.changes[0]).toMatchObject({ fields: ['attachments'], attachmentsAdded: ['att1'] });
    expect(lee.getMap('entries').size).toBe(0);
    replay.destroy();
    await log.close();
  });

  it('keeps the most recently used replays only, and one dropped while in use still answers', async () => {
    const logs = [openLog(), openLog(), openLog()];
    for (const { log } of logs) {
      const doc = new Y.Doc();
      doc.on('update', (u: Uint8Array) => log.append('kim', u));
      createEntry(doc, { kind: 'test', title: 'ping', ranAt: '2026-03-04T06:00:00.000Z' });
      await log.whenDurable();
    }
    const replays = new Replays(2);
    const a = await replays.of('a', logs[0]!.history);
    const b = await replays.of('b', logs[1]!.history);
    expect(await replays.of('a', logs[0]!.history)).toBe(a); // a is now the most recent
    await replays.of('c', logs[2]!.history); // b goes
    expect(replays.size).toBe(2);
    expect(await replays.of('a', logs[0]!.history)).toBe(a);
    expect(await replays.of('b', logs[1]!.history)).not.toBe(b);
    const doc = new Y.Doc();
    Y.applyUpdate(doc, b.stateAfter(1)); // the dropped one still works for whoever holds it
    expect(entriesOf(doc).size).toBe(1);
    replays.close();
    for (const { log } of logs) await log.close();
  });
});
