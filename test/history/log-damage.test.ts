/**
 * A damaged record is not a torn tail: reading goes on at the next valid record, the damage is
 * reported (offset, bytes, the seqs lost), and nothing acknowledged after it is cut. Real files.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import * as Y from 'yjs';
import { createEntry, listEntries } from '../../shared/schema/doc.js';
import { IncidentHistory } from '../../server/storage/embedded/incident-history.js';
import { logDamage } from '../../server/storage/embedded/log-damage.js';
import { UpdateLog, readRecords } from '../../server/storage/embedded/update-log.js';
import { tempDataDir } from '../helpers/server.js';

const log = pino({ level: 'silent' });

/** `n` entries, each written by a client of its own (a session of its own) as one record. */
async function writeSessions(history: IncidentHistory, n: number): Promise<void> {
  const shared = new Y.Doc();
  const updateLog = new UpdateLog(history.logFile, { size: 0, lastSeq: 0, lastAt: 0 }, () => undefined, (e) => { throw e; });
  for (let i = 1; i <= n; i++) {
    const session = new Y.Doc();
    Y.applyUpdate(session, Y.encodeStateAsUpdate(shared));
    session.on('update', (u: Uint8Array) => {
      updateLog.append(`user-${i}`, u);
      Y.applyUpdate(shared, u);
    });
    createEntry(session, { kind: 'test', title: `entry ${i}`, ranAt: new Date(Date.UTC(2026, 2, 4, 6, 0, i)).toISOString() });
  }
  await updateLog.close();
}

/** Offsets of every record, by seq. */
async function offsets(file: string): Promise<Map<number, { offset: number; end: number }>> {
  const out = new Map<number, { offset: number; end: number }>();
  for await (const { record, offset, end } of readRecords(file)) out.set(record.seq, { offset, end });
  return out;
}

const seqsOf = async (history: IncidentHistory) => {
  const seqs: number[] = [];
  for await (const { record } of history.records()) seqs.push(record.seq);
  return seqs;
};
const tornFiles = (dir: string) => fs.readdirSync(dir).filter((f) => f.startsWith('updates.log.torn-'));
const allBut = (n: number, lost: number[]) => Array.from({ length: n }, (_, i) => i + 1).filter((s) => !lost.includes(s));

async function damaged(n: number, flip: (buf: Buffer, at: Map<number, { offset: number; end: number }>) => void) {
  const dir = path.join(tempDataDir(), 'inc');
  const history = await IncidentHistory.create(dir);
  await writeSessions(history, n);
  const buf = fs.readFileSync(history.logFile);
  flip(buf, await offsets(history.logFile));
  fs.writeFileSync(history.logFile, buf);
  return { dir, history, size: buf.length };
}

describe('a damaged update log', () => {
  it('skips a flipped bit mid-log and one near the end, cuts nothing, and reports both', async () => {
    const { dir, history, size } = await damaged(20, (buf, at) => {
      buf[at.get(5)!.offset + 20]! ^= 0x10; // in the payload
      buf[at.get(18)!.offset + 4]! ^= 0x01; // in the checksum
    });
    const loaded = await history.load(log);
    expect(loaded.log.lastSeq).toBe(20);
    expect(loaded.replayed).toBe(18);
    expect(fs.statSync(history.logFile).size).toBe(size);
    expect(tornFiles(dir)).toEqual([]);
    expect(listEntries(loaded.doc).map((e) => e.title).sort()).toEqual(allBut(20, [5, 18]).map((i) => `entry ${i}`).sort());
    expect(await seqsOf(history)).toEqual(allBut(20, [5, 18]));
    const damage = logDamage(history.logFile)!;
    expect(damage.records).toBe(2);
    expect(damage.spans.map(({ afterSeq, nextSeq, reason }) => ({ afterSeq, nextSeq, reason }))).toEqual([
      { afterSeq: 4, nextSeq: 6, reason: 'checksum mismatch' },
      { afterSeq: 17, nextSeq: 19, reason: 'checksum mismatch' },
    ]);

    // Appends go on after the last record, and the next load reads them past the damage.
    const updateLog = new UpdateLog(history.logFile, loaded.log, () => undefined, (e) => { throw e; });
    loaded.doc.on('update', (u: Uint8Array) => updateLog.append('user-x', u));
    createEntry(loaded.doc, { kind: 'note', title: 'after the damage', ranAt: '2026-03-04T07:00:00.000Z' });
    await updateLog.close();
    const reloaded = await history.load(log);
    expect(reloaded.log.lastSeq).toBe(21);
    expect(listEntries(reloaded.doc).map((e) => e.title)).toContain('after the damage');
  });

  it('finds the next record when a length field claims more than the file holds (not a torn tail)', async () => {
    const { dir, history, size } = await damaged(10, (buf, at) => {
      buf[at.get(7)!.offset + 2]! ^= 0x40; // length + 4 MiB: past the end of the file
    });
    const loaded = await history.load(log);
    expect(loaded.log.lastSeq).toBe(10);
    expect(fs.statSync(history.logFile).size).toBe(size);
    expect(tornFiles(dir)).toEqual([]);
    expect(await seqsOf(history)).toEqual(allBut(10, [7]));
    expect(logDamage(history.logFile)?.spans).toMatchObject([{ afterSeq: 6, nextSeq: 8, reason: 'incomplete record' }]);
  });

  it('keeps several damaged records in a row as one span, and the seqs they held', async () => {
    const { history } = await damaged(12, (buf, at) => {
      for (const seq of [3, 4, 5]) buf[at.get(seq)!.offset + 12]! ^= 0x80;
    });
    const loaded = await history.load(log);
    expect(loaded.log.lastSeq).toBe(12);
    expect(logDamage(history.logFile)).toMatchObject({ records: 3, spans: [{ afterSeq: 2, nextSeq: 6 }] });
  });

  it('does not cut damaged records the checkpoint holds, even at the end', async () => {
    const { dir, history, size } = await damaged(10, (buf, at) => {
      buf[at.get(10)!.offset + 15]! ^= 0x02;
    });
    // A checkpoint after record 10: it was acknowledged, so it is not a torn tail.
    const intact = new Y.Doc();
    for (let i = 1; i <= 10; i++) createEntry(intact, { kind: 'test', title: `entry ${i}`, ranAt: '2026-03-04T06:00:00.000Z' });
    await history.writeCheckpoint({ seq: 10, at: Date.now(), logOffset: size, bindings: new Map(), docUpdate: Y.encodeStateAsUpdate(intact) });
    const loaded = await history.load(log);
    expect(loaded.log).toMatchObject({ lastSeq: 10, size });
    expect(fs.statSync(history.logFile).size).toBe(size);
    expect(tornFiles(dir)).toEqual([]);
    expect(logDamage(history.logFile)).toMatchObject({ records: 1, spans: [{ afterSeq: 9, nextSeq: 11 }] });
  });

  it('still cuts a torn tail, into a side file only the server can read', async () => {
    const dir = path.join(tempDataDir(), 'inc');
    const history = await IncidentHistory.create(dir);
    await writeSessions(history, 5);
    const intact = fs.readFileSync(history.logFile);
    fs.writeFileSync(history.logFile, intact.subarray(0, intact.length - 9));
    const loaded = await history.load(log);
    expect(loaded.log.lastSeq).toBe(4);
    const [aside] = tornFiles(dir);
    expect(fs.statSync(path.join(dir, aside!)).mode & 0o777).toBe(0o600);
    expect(logDamage(history.logFile)).toBeUndefined();
  });

  it('scans a long damaged stretch in linear time', async () => {
    const { history } = await damaged(30, (buf, at) => {
      // Records 2–29 overwritten with noise that looks like small lengths and seqs.
      for (let i = at.get(2)!.offset; i < at.get(30)!.offset; i++) buf[i] = i % 7 === 0 ? 24 : i % 3;
    });
    const started = performance.now();
    expect(await seqsOf(history)).toEqual([1, 30]);
    expect(performance.now() - started).toBeLessThan(500);
  });
});
