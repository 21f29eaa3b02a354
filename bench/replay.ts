/**
 * Replay of a long history (issue 6): an incident of 10k entries written by 100k updates from three
 * people — entries created, text typed and deleted, titles changed, verdicts set — logged by the
 * server's own update log on disk. Measures:
 *   - seek: the document after a random record, as `GET …/replay/state` answers it, p50/p99/max
 *     (and the first build of the replay from the log), against the reference path (`state?at=`:
 *     the latest checkpoint if it is early enough, else the log from the start);
 *   - play: records read after a random point and encoded for `…/replay/updates`, per second, and
 *     the rate a client applies them at;
 *   - storage: the log and checkpoint on disk against the raw update bytes.
 *
 *   node --expose-gc --import tsx bench/replay.ts [updates=100000] [entries=10000] [--json]
 *
 * `npm run bench` runs it in a process of its own (`replayInChild`), with the GC exposed for the heap figure.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';
import { pino } from 'pino';
import { createEntry, createHypothesis, entriesOf, entryText, hypothesesOf, setHypothesisStatus, updateEntry } from '../shared/schema/doc.js';
import { encodeReplayRecord } from '../shared/replay-wire.js';
import { IncidentHistory } from '../server/storage/embedded/incident-history.js';
import { IncidentReplay } from '../server/history/replay.js';
import { stateAt } from '../server/history/state-at.js';
import { EmbeddedIncidentLog } from '../server/storage/embedded/embedded-incident-log.js';
import { UpdateLog } from '../server/storage/embedded/update-log.js';
import { startTestServer, tempDataDir, ADMIN_TOKEN } from '../test/helpers/server.js';
import { progress, stats, type Stats } from './lib.js';

export interface ReplayResult {
  updates: number;
  entries: number;
  rawBytes: number;
  logBytes: number;
  checkpointBytes: number;
  /** First request: the replay built from the log, ms. */
  buildMs: number;
  replayHeapBytes: number;
  seek: Stats;
  /** Seeks through HTTP (`GET …/replay/state?seq=`) from a client on loopback, the first one building the replay. */
  http: Stats;
  httpFirstMs: number;
  /** The reference path (state?at=) for a sample of the same seeks. */
  reference: Stats;
  /** Records read from the log and encoded for the wire, per second. */
  playRecordsPerSec: number;
  /** The same records applied to a document, per second (what a client's replay does). */
  applyRecordsPerSec: number;
}

/** Deterministic pseudo-random numbers (mulberry32), so every run writes the same history. */
function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Writes the history through the server's update log, as three people would make it. */
async function writeHistory(dir: string, updates: number, entries: number) {
  const history = new IncidentHistory(dir);
  const log = new UpdateLog(history.logFile, { size: 0, lastSeq: 0, lastAt: 0 }, () => undefined, () => undefined);
  const people = ['u_kim', 'u_lee', 'u_ana'];
  const docs = people.map(() => new Y.Doc());
  let rawBytes = 0;
  let written = 0;
  docs.forEach((doc, i) =>
    doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin === 'remote') return;
      log.append(people[i]!, update);
      rawBytes += update.length;
      written++;
      for (const other of docs) if (other !== doc) Y.applyUpdate(other, update, 'remote');
    }),
  );
  const rnd = random(42);
  const ids: string[] = [];
  const hypotheses: string[] = [];
  const start = Date.UTC(2026, 2, 4, 6, 0, 0);
  while (written < updates) {
    const doc = docs[Math.floor(rnd() * docs.length)]!;
    const roll = rnd();
    if (ids.length < entries && (ids.length === 0 || roll < entries / updates)) {
      ids.push(createEntry(doc, { kind: rnd() < 0.7 ? 'test' : 'note', title: `test ${ids.length}`, ranAt: new Date(start + ids.length * 1000).toISOString(), command: `ping -c 3 10.0.${ids.length % 256}.1` }));
    } else if (roll < 0.8) {
      const text = entryText(doc, ids[Math.floor(rnd() * ids.length)]!, rnd() < 0.7 ? 'observations' : 'conclusion')!;
      if (text.length > 3 && rnd() < 0.2) text.delete(text.length - 2, 2); // backspace
      else text.insert(text.length, rnd() < 0.5 ? 'rtt ok; ' : 'loss ');
    } else if (roll < 0.95) {
      updateEntry(doc, ids[Math.floor(rnd() * ids.length)]!, { title: `test renamed ${written}` });
    } else if (hypotheses.length < 50 || rnd() < 0.1) {
      hypotheses.push(createHypothesis(doc, `cause ${hypotheses.length}`));
    } else {
      setHypothesisStatus(doc, hypotheses[Math.floor(rnd() * hypotheses.length)]!, rnd() < 0.5 ? 'supported' : 'ruled-out');
    }
    if (written % 5000 === 0) await log.whenDurable();
  }
  await log.whenDurable();
  await log.close();
  // The checkpoint the server keeps (only the latest): the whole document.
  await history.writeCheckpoint({ seq: written, at: Date.now(), logOffset: fs.statSync(history.logFile).size, bindings: new Map(), docUpdate: Y.encodeStateAsUpdate(docs[0]!) });
  for (const doc of docs) doc.destroy();
  return { history, rawBytes, written };
}

export async function replayBench(updates = 100_000, entries = 10_000, seeks = 400): Promise<ReplayResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bridgelog-bench-replay-'));
  try {
    progress(`replay: writing ${updates.toLocaleString('en')} updates (${entries.toLocaleString('en')} entries)`);
    const { history, rawBytes, written } = await writeHistory(dir, updates, entries);
    const logBytes = fs.statSync(history.logFile).size;
    const checkpointBytes = fs.statSync(history.checkpointFile).size;

    const settledHeap = async () => {
      for (let i = 0; i < 3; i++) {
        global.gc?.();
        await new Promise((r) => setTimeout(r, 50));
      }
      return process.memoryUsage().heapUsed;
    };
    const heapBefore = await settledHeap();
    let started = performance.now();
    const replay = new IncidentReplay(new EmbeddedIncidentLog('bench', dir, pino({ level: 'silent' })));
    await replay.catchUp();
    const buildMs = performance.now() - started;
    const replayHeapBytes = global.gc ? (await settledHeap()) - heapBefore : NaN;

    progress(`replay: ${seeks} random seeks`);
    const rnd = random(7);
    const seekMs: number[] = [];
    for (let i = 0; i < seeks; i++) {
      const seq = 1 + Math.floor(rnd() * written);
      started = performance.now();
      replay.stateAfter(replay.seqAt(replay.atOf(seq)));
      seekMs.push(performance.now() - started);
    }
    progress('replay: reference seeks (state?at=)');
    const referenceMs: number[] = [];
    const incidentLog = new EmbeddedIncidentLog('bench', dir, pino({ level: 'silent' }));
    for (let i = 0; i < 10; i++) {
      const seq = 1 + Math.floor(rnd() * written);
      started = performance.now();
      await stateAt(incidentLog, replay.atOf(seq));
      referenceMs.push(performance.now() - started);
    }

    progress('replay: play forward');
    let played = 0;
    started = performance.now();
    const from = Math.floor(written / 4);
    const encoder = encoding.createEncoder();
    const records = [];
    for await (const record of replay.recordsAfter(from, 50_000)) {
      encodeReplayRecord(encoder, record);
      records.push(record);
      played++;
    }
    encoding.toUint8Array(encoder);
    const playRecordsPerSec = played / ((performance.now() - started) / 1000);
    const client = new Y.Doc();
    Y.applyUpdate(client, replay.stateAfter(from));
    started = performance.now();
    for (const record of records) Y.applyUpdate(client, record.update);
    const applyRecordsPerSec = records.length / ((performance.now() - started) / 1000);
    client.destroy();
    replay.destroy();

    progress('replay: seeks over HTTP');
    const { http, httpFirstMs } = await seeksOverHttp(history.logFile, written, Math.min(seeks, 200));
    return {
      http, httpFirstMs,
      updates: written, entries, rawBytes, logBytes, checkpointBytes, buildMs, replayHeapBytes,
      seek: stats(seekMs), reference: stats(referenceMs), playRecordsPerSec, applyRecordsPerSec,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The same history served by a real server: an incident created through the API, the server stopped,
 * its log replaced by this one, the server started again; then seeks as the web app asks for them.
 */
async function seeksOverHttp(logFile: string, records: number, seeks: number): Promise<{ http: Stats; httpFirstMs: number }> {
  const dataDir = tempDataDir();
  try {
    let server = await startTestServer({ dataDir, env: { USER_TIME_SHARE: '1000' } });
    const incident = await server.createIncident(ADMIN_TOKEN);
    await server.close();
    const dir = path.join(dataDir, 'incidents', incident.id);
    fs.rmSync(path.join(dir, 'checkpoint.bin'), { force: true });
    fs.copyFileSync(logFile, path.join(dir, 'updates.log'));
    server = await startTestServer({ dataDir, env: { USER_TIME_SHARE: '1000' } });
    const rnd = random(11);
    const seek = async (seq: number) => {
      const started = performance.now();
      const res = await server.api('GET', `/api/incidents/${incident.id}/replay/state?seq=${seq}`, { token: ADMIN_TOKEN });
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`replay/state: ${res.status}`);
      return performance.now() - started;
    };
    const httpFirstMs = await seek(records);
    const ms: number[] = [];
    for (let i = 0; i < seeks; i++) ms.push(await seek(1 + Math.floor(rnd() * records)));
    await server.close();
    return { http: stats(ms), httpFirstMs };
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

export function renderReplay(r: ReplayResult): string[] {
  const ms = (v: number) => v.toFixed(1);
  const mb = (b: number) => (b / 2 ** 20).toFixed(1);
  return [
    `An incident of ${r.entries.toLocaleString('en')} entries written by ${r.updates.toLocaleString('en')} updates from three people (text typed and deleted, titles changed, verdicts), through the server's update log.`,
    '',
    '| measure | value | target |',
    '|---|---|---|',
    `| seek to a random record (server: document after it, as an update), p50 / p99 / max | ${ms(r.seek.p50)} / ${ms(r.seek.p99)} / ${ms(r.seek.max)} ms (n = ${r.seek.n}) | p50 ≤ 50 ms, p99 ≤ 150 ms |`,
    `| the same over HTTP (\`GET …/replay/state?seq=\`, body read by a client on loopback), p50 / p99 / max | ${ms(r.http.p50)} / ${ms(r.http.p99)} / ${ms(r.http.max)} ms (n = ${r.http.n}); the first, which builds the replay from the log: ${Math.round(r.httpFirstMs)} ms | — |`,
    `| the reference path (\`state?at=\`: checkpoint or log from the start), p50 / max | ${ms(r.reference.p50)} / ${ms(r.reference.max)} ms (n = ${r.reference.n}) | — |`,
    `| first use: replay built from the log | ${Math.round(r.buildMs)} ms${Number.isNaN(r.replayHeapBytes) ? '' : `, ${mb(r.replayHeapBytes)} MiB heap kept`} | — |`,
    `| play forward: records read and encoded for the wire | ${Math.round(r.playRecordsPerSec).toLocaleString('en')} /s | ≥ 10,000 /s |`,
    `| play forward: the same records applied by a client | ${Math.round(r.applyRecordsPerSec).toLocaleString('en')} /s | ≥ 10,000 /s |`,
    `| storage: log ${mb(r.logBytes)} MiB + checkpoint ${mb(r.checkpointBytes)} MiB vs raw updates ${mb(r.rawBytes)} MiB | ${((r.logBytes + r.checkpointBytes) / r.rawBytes).toFixed(2)}× | ≤ 2× |`,
  ];
}

/** Runs the benchmark in a fresh process (its heap is then the replay's alone). */
export function replayInChild(updates: number, entries: number): Promise<ReplayResult> {
  return new Promise((resolve, reject) => {
    const args = ['--expose-gc', '--import', 'tsx', new URL(import.meta.url).pathname, String(updates), String(entries), '--json'];
    const child = execFile(process.execPath, args, { maxBuffer: 16 * 2 ** 20 }, (err, stdout) => {
      if (err) return reject(err);
      resolve(JSON.parse(stdout.trim().split('\n').at(-1)!) as ReplayResult);
    });
    child.stderr?.pipe(process.stderr);
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [updates, entries] = process.argv.slice(2).filter((a) => !a.startsWith('--')).map(Number);
  const result = await replayBench(updates || 100_000, entries || 10_000);
  if (process.argv.includes('--json')) console.log(JSON.stringify(result));
  else console.log(renderReplay(result).join('\n'));
}
