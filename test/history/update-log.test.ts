/** The update log on disk: records survive, a torn tail is cut (and kept aside), checkpoints only speed things up. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import * as Y from 'yjs';
import { createEntry, listEntries } from '../../shared/schema/doc.js';
import { IncidentHistory } from '../../server/storage/embedded/incident-history.js';
import { UpdateLog } from '../../server/storage/embedded/update-log.js';
import { encodeRecord } from '../../server/storage/embedded/record.js';
import { tempDataDir } from '../helpers/server.js';

const log = pino({ level: 'silent' });

/** Writes `n` entries as `n` records, as the server would, and returns the final doc. */
async function writeHistory(history: IncidentHistory, n: number): Promise<Y.Doc> {
  const doc = new Y.Doc();
  const updateLog = new UpdateLog(history.logFile, { size: 0, lastSeq: 0, lastAt: 0 }, () => undefined, (e) => { throw e; });
  doc.on('update', (u: Uint8Array) => updateLog.append('user-1', u));
  for (let i = 0; i < n; i++) createEntry(doc, { kind: 'test', title: `entry ${i}`, ranAt: new Date(Date.UTC(2026, 2, 4, 6, 0, i)).toISOString() });
  await updateLog.close();
  return doc;
}

describe('IncidentHistory', () => {
  it('loads exactly what was written, in order', async () => {
    const history = await IncidentHistory.create(path.join(tempDataDir(), 'inc'));
    const doc = await writeHistory(history, 20);
    const loaded = await history.load(log);
    expect(loaded.log.lastSeq).toBe(20);
    expect(listEntries(loaded.doc)).toEqual(listEntries(doc));
    const seqs: number[] = [];
    for await (const { record } of history.records()) seqs.push(record.seq);
    expect(seqs).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it.each([
    ['a record cut in half', (buf: Buffer) => buf.subarray(0, buf.length - 7)],
    ['a header with no payload', (buf: Buffer) => Buffer.concat([buf, Buffer.from([40, 0, 0, 0, 1, 2])])],
    ['a record with a bad checksum', (buf: Buffer) => { const last = Buffer.from(buf); last[last.length - 3]! ^= 0xff; return last; }],
  ])('cuts a torn tail (%s) at the last good record, keeps the bytes aside, and appends after it', async (_name, tear) => {
    const dir = path.join(tempDataDir(), 'inc');
    const history = await IncidentHistory.create(dir);
    await writeHistory(history, 10);
    const intact = fs.readFileSync(history.logFile);
    fs.writeFileSync(history.logFile, tear(intact));

    const loaded = await history.load(log);
    const expected = tear === undefined ? 10 : loaded.log.lastSeq;
    expect(expected).toBeGreaterThanOrEqual(9);
    expect(listEntries(loaded.doc)).toHaveLength(loaded.log.lastSeq);
    expect(fs.statSync(history.logFile).size).toBe(loaded.log.size);
    expect(fs.readdirSync(dir).some((f) => f.startsWith('updates.log.torn-'))).toBe(true);

    // The log goes on from there.
    const updateLog = new UpdateLog(history.logFile, loaded.log, () => undefined, (e) => { throw e; });
    loaded.doc.on('update', (u: Uint8Array) => updateLog.append('user-2', u));
    createEntry(loaded.doc, { kind: 'note', title: 'after the crash', ranAt: '2026-03-04T07:00:00.000Z' });
    await updateLog.close();
    const reloaded = await history.load(log);
    expect(reloaded.log.lastSeq).toBe(loaded.log.lastSeq + 1);
    expect(listEntries(reloaded.doc).map((e) => e.title)).toContain('after the crash');
  });

  it('loads from checkpoint + tail, and ignores a damaged checkpoint (the log alone suffices)', async () => {
    const history = await IncidentHistory.create(path.join(tempDataDir(), 'inc'));
    const doc = await writeHistory(history, 30);
    // A checkpoint after record 20, written as the server would.
    const at20 = new Y.Doc();
    let offset = 0;
    let at = 0;
    for await (const { record, end } of history.records()) {
      if (record.seq > 20) break;
      Y.applyUpdate(at20, record.update);
      offset = end;
      at = record.at;
    }
    await history.writeCheckpoint({ seq: 20, at, logOffset: offset, bindings: new Map(), docUpdate: Y.encodeStateAsUpdate(at20) });
    const fromCheckpoint = await history.load(log);
    expect(fromCheckpoint.checkpointSeq).toBe(20);
    expect(fromCheckpoint.replayed).toBe(10);
    expect(listEntries(fromCheckpoint.doc)).toEqual(listEntries(doc));

    const cp = fs.readFileSync(history.checkpointFile);
    cp[cp.length - 10]! ^= 0xff;
    fs.writeFileSync(history.checkpointFile, cp);
    const fromLog = await history.load(log);
    expect(fromLog.checkpointSeq).toBe(0);
    expect(fromLog.replayed).toBe(30);
    expect(listEntries(fromLog.doc)).toEqual(listEntries(doc));
  });

  it('refuses to load a log whose records are out of sequence', async () => {
    const history = await IncidentHistory.create(path.join(tempDataDir(), 'inc'));
    const doc = new Y.Doc();
    createEntry(doc, { kind: 'note', title: 'x', ranAt: '2026-03-04T07:00:00.000Z' });
    const update = Y.encodeStateAsUpdate(doc);
    fs.writeFileSync(history.logFile, Buffer.concat([encodeRecord({ seq: 1, at: 1, userId: 'u', update }), encodeRecord({ seq: 3, at: 2, userId: 'u', update })]));
    await expect(history.load(log)).rejects.toThrow(/record seq 3 follows 1/);
  });
});
