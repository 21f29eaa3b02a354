/**
 * What every IncidentLog must do, written once and run against each implementation
 * (incident-log.test.ts): seqs, durability, exact ranges by seq, checkpoints, reopening.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { inspectUpdate } from '../../server/history/attribution.js';
import type { DurableEvent, IncidentAppender, IncidentLog, LogRecord } from '../../server/storage/incident-log.js';

export interface IncidentLogFixture {
  /** An incident with no history yet. */
  create(): Promise<IncidentLog>;
  /** The same incident as a restarted server sees it, once `log`'s appender has closed. */
  reopen(log: IncidentLog): Promise<IncidentLog>;
  /**
   * Shared by several nodes (PostgreSQL): a read sees every committed record, possibly a moment
   * before the appender has heard back from its COMMIT. Still never a record that is not durable.
   */
  readsCommitted?: boolean;
}

/** A writer whose every change is appended, as a room does it; `from` is a document it starts from. */
function writer(appender: IncidentAppender, userId: string, from?: Y.Doc) {
  const doc = new Y.Doc();
  if (from) Y.applyUpdate(doc, Y.encodeStateAsUpdate(from));
  // Claiming the client IDs it writes under, as a room does.
  doc.on('update', (update: Uint8Array) => appender.append(userId, update, inspectUpdate(update).clients));
  return { doc, write: (key: string, value: string) => doc.getMap('entries').set(key, value) };
}

async function opened(log: IncidentLog) {
  const loaded = await log.load();
  const durable: DurableEvent[] = [];
  const appender = log.startAppending({ onDurable: (e) => durable.push(e), onFailure: (err) => { throw err; } });
  return { loaded, appender, durable };
}

async function read(log: IncidentLog, range?: { after?: number; upTo?: number }): Promise<LogRecord[]> {
  const out: LogRecord[] = [];
  for await (const record of log.records(range)) out.push(record);
  return out;
}
const seqsOf = async (log: IncidentLog, range?: { after?: number; upTo?: number }) => (await read(log, range)).map((r) => r.seq);
const range = (from: number, to: number) => Array.from({ length: Math.max(to - from + 1, 0) }, (_, i) => from + i);
const contentOf = (doc: Y.Doc) => doc.getMap('entries').toJSON();

export function describeIncidentLogContract(name: string, make: () => IncidentLogFixture): void {
  describe(`IncidentLog contract: ${name}`, () => {
    it('starts empty', async () => {
      const log = await make().create();
      const { loaded, appender } = await opened(log);
      expect(contentOf(loaded.doc)).toEqual({});
      expect(loaded).toMatchObject({ checkpointSeq: 0, replayed: 0 });
      expect(appender.durableSeq).toBe(0);
      expect(await read(log)).toEqual([]);
      expect(await log.latestCheckpoint()).toBeUndefined();
      await appender.close();
    });

    it('numbers appends 1, 2, 3… and keeps who, when and the update', async () => {
      const log = await make().create();
      const { appender } = await opened(log);
      const before = Date.now();
      const updates = [new Uint8Array([0, 0]), new Uint8Array([1, 2, 3])];
      expect(updates.map((u, i) => appender.append(`u_${i}`, u).seq)).toEqual([1, 2]);
      expect(appender.appendedSeq).toBe(2);
      await appender.whenDurable();
      const records = await read(log);
      expect(records.map((r) => [r.seq, r.userId, [...r.update]])).toEqual([[1, 'u_0', [0, 0]], [2, 'u_1', [1, 2, 3]]]);
      expect(records[0]!.at).toBeGreaterThanOrEqual(before);
      expect(records[1]!.at).toBeGreaterThanOrEqual(records[0]!.at);
      expect(appender.lastAt).toBe(records[1]!.at);
      await appender.close();
    });

    it('reports durability in seq order, up to the last append, and whenDurable agrees', async () => {
      const log = await make().create();
      const { appender, durable } = await opened(log);
      const { write } = writer(appender, 'u_kim');
      const waits: Array<Promise<number>> = [];
      for (let i = 1; i <= 50; i++) {
        write(`e${i}`, 'x'.repeat(i * 100));
        const seq = appender.appendedSeq;
        waits.push(appender.whenDurable(seq).then(() => (expect(appender.durableSeq).toBeGreaterThanOrEqual(seq), seq)));
        if (i % 7 === 0) await new Promise((r) => setImmediate(r));
      }
      expect(await Promise.all(waits)).toEqual(range(1, 50));
      const ups = durable.map((e) => e.upToSeq);
      expect(ups).toEqual([...ups].sort((a, b) => a - b));
      expect(new Set(ups).size).toBe(ups.length);
      expect(ups.at(-1)).toBe(50);
      expect(appender.durableSeq).toBe(50);
      await appender.close();
    });

    it('reads exactly the records after `after` up to `upTo`, from anywhere in a long log', async () => {
      const log = await make().create();
      const { appender } = await opened(log);
      const { write } = writer(appender, 'u_kim');
      for (let i = 1; i <= 700; i++) write(`e${i % 40}`, String(i));
      await appender.whenDurable();
      expect(await seqsOf(log)).toEqual(range(1, 700));
      for (const [after, upTo] of [[0, 1], [10, 20], [255, 257], [300, 700], [699, undefined], [512, 513], [5, 5], [20, 10], [700, undefined], [650, 10_000]] as const) {
        expect(await seqsOf(log, { after, upTo }), `after ${after} up to ${upTo}`).toEqual(range(after + 1, Math.min(upTo ?? 700, 700)));
      }
      // Backwards too, once the log has been read far.
      for (const after of [600, 400, 3, 0]) expect((await seqsOf(log, { after, upTo: after + 2 }))).toEqual([after + 1, after + 2]);
      await appender.close();
    });

    it('never reads past what is durable', async () => {
      const fixture = make();
      const log = await fixture.create();
      const { appender } = await opened(log);
      const { write } = writer(appender, 'u_kim');
      for (let i = 1; i <= 5; i++) write(`e${i}`, 'durable');
      await appender.whenDurable();
      for (let i = 6; i <= 9; i++) write(`e${i}`, 'not yet');
      expect(appender.durableSeq).toBe(5);
      // Asked for more than is durable, or for everything: what is durable, no more (more may become
      // durable while reading: at least what was when it began).
      for (const asked of [{}, { after: 3, upTo: 9 }, { after: 5 }]) {
        const durableBefore = appender.durableSeq;
        const seqs = await seqsOf(log, asked);
        const after = asked.after ?? 0;
        expect(seqs, JSON.stringify(asked)).toEqual(range(after + 1, after + seqs.length));
        expect(after + seqs.length).toBeGreaterThanOrEqual(durableBefore);
        if (fixture.readsCommitted) await appender.whenDurable(after + seqs.length); // committed: its answer is on its way
        expect(after + seqs.length).toBeLessThanOrEqual(appender.durableSeq);
      }
      await appender.whenDurable();
      expect(await seqsOf(log, { after: 3 })).toEqual(range(4, 9));
      await appender.close();
    });

    it('loads a checkpoint plus the records after it into the same document as replaying everything', async () => {
      const fixture = make();
      const log = await fixture.create();
      const { appender } = await opened(log);
      const kim = writer(appender, 'u_kim');
      for (let i = 1; i <= 30; i++) kim.write(`e${i % 7}`, `kim ${i}`);
      await appender.whenDurable();
      const at = (await read(log, { after: 29 }))[0]!.at;
      await log.writeCheckpoint({ seq: 30, at, doc: Y.encodeStateAsUpdate(kim.doc), bindings: new Map([[kim.doc.clientID, 'u_kim']]) });
      expect(await log.latestCheckpoint()).toMatchObject({ seq: 30, at, bindings: new Map([[kim.doc.clientID, 'u_kim']]) });
      const lee = writer(appender, 'u_lee', kim.doc);
      for (let i = 1; i <= 12; i++) lee.write(`e${i % 5}`, `lee ${i}`);
      await appender.close();

      const everything = new Y.Doc();
      for (const record of await read(log)) Y.applyUpdate(everything, record.update);
      expect(contentOf(everything)).toEqual(contentOf(lee.doc));

      const reopened = await fixture.reopen(log);
      const { loaded, appender: again } = await opened(reopened);
      expect(loaded).toMatchObject({ checkpointSeq: 30, replayed: 12 });
      expect(contentOf(loaded.doc)).toEqual(contentOf(everything));
      expect(loaded.bindings.ownerOf(kim.doc.clientID)).toBe('u_kim');
      expect(loaded.bindings.ownerOf(lee.doc.clientID)).toBe('u_lee');
      await again.close();
    });

    it('continues after a reopen: seqs go on where they stopped, and reads span both', async () => {
      const fixture = make();
      const log = await fixture.create();
      const first = await opened(log);
      const kim = writer(first.appender, 'u_kim');
      for (let i = 1; i <= 8; i++) kim.write(`e${i}`, 'first');
      await first.appender.close();

      const reopened = await fixture.reopen(log);
      expect(await seqsOf(reopened)).toEqual(range(1, 8));
      const second = await opened(reopened);
      expect(contentOf(second.loaded.doc)).toEqual(contentOf(kim.doc));
      expect(second.appender.durableSeq).toBe(8);
      const lee = writer(second.appender, 'u_lee', second.loaded.doc);
      lee.write('e9', 'second');
      expect(second.appender.appendedSeq).toBe(9);
      await second.appender.whenDurable();
      expect(await seqsOf(reopened, { after: 6 })).toEqual([7, 8, 9]);
      expect((await read(reopened, { after: 8 }))[0]).toMatchObject({ seq: 9, userId: 'u_lee' });
      await second.appender.close();
    });
  });
}
