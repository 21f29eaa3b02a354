/**
 * Cold join: latecomers join an incident of 10k entries (written by 100k updates) and ask for
 * everything; each is timed from opening its socket to the full state (sync step 2) arriving — alone
 * (several rounds) and 100 at once.
 *
 * For every server the document is first in memory, held by a client that sent it as one update (the
 * peers keep nothing on disk, so that is the only way they have it). Bridgelog is also timed with the
 * document on disk only, loaded by the first join: from its checkpoint, and from the log alone.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as Y from 'yjs';
import { pino } from 'pino';
import { createEntry, entryText } from '../shared/schema/doc.js';
import { IncidentHistory } from '../server/storage/embedded/incident-history.js';
import { UpdateLog } from '../server/storage/embedded/update-log.js';
import { progress, stats, type Stats } from './lib.js';
import { LoadProcess } from './load/ipc.js';
import type { LatecomersConfig, LatecomersResult } from './load/latecomers.js';
import type { ReadersConfig } from './load/readers.js';
import { ServerUnderTest, type ServerKind } from './servers.js';

export interface IncidentFixture {
  entries: number;
  updates: Uint8Array[];
  /** The whole document as one update. */
  state: Uint8Array;
}

/** `entries` entries, then small appends to their observations up to `updates` updates in all. */
export function buildIncident(entries: number, updates: number): IncidentFixture {
  const doc = new Y.Doc();
  const out: Uint8Array[] = [];
  doc.on('update', (u: Uint8Array) => out.push(u));
  const ids: string[] = [];
  for (let i = 0; i < entries; i++) {
    ids.push(createEntry(doc, { kind: 'test', title: `test ${i}`, ranAt: new Date(Date.UTC(2026, 2, 4, 6, 0, i)).toISOString(), command: `ping -c 3 10.0.${i % 256}.1` }));
  }
  for (let i = entries; i < updates; i++) {
    const text = entryText(doc, ids[i % ids.length]!, 'observations')!;
    text.insert(text.length, 'rtt ok; ');
  }
  return { entries, updates: out, state: Y.encodeStateAsUpdate(doc) };
}

export interface ColdJoinResult {
  server: ServerKind;
  /** Where the document was when the latecomers came. */
  from: 'memory' | 'checkpoint' | 'log';
  /** One latecomer at a time: ms per round. */
  single: number[];
  /** `concurrentCount` latecomers at once: ms for each. */
  concurrent: Stats | null;
  concurrentCount: number;
  stateBytes: number;
  /** Bridgelog, from disk: the server's own time to load the document, ms (its log line). */
  serverLoadMs: number[];
}

function latecomers(config: LatecomersConfig): Promise<LatecomersResult> {
  const p = new LoadProcess('latecomers.ts', config);
  return p.next<LatecomersResult>('result', 600_000).finally(() => p.stop());
}

const loadTimes = (output: string) => [...output.matchAll(/"ms":(\d+),"msg":"incident document loaded"/g)].map((m) => Number(m[1]));

export async function coldJoinInMemory(kind: ServerKind, fixture: IncidentFixture, concurrent: number): Promise<ColdJoinResult> {
  const server = await ServerUnderTest.start(kind, { label: 'cold-join' });
  const [doc] = await server.createDocs(1, 'cold join');
  const holder = new LoadProcess('readers.ts', { targets: [server.target(doc!, 'writer')], seeds: [fixture.state], writers: 0, perWriter: 0, concurrency: 1 } satisfies ReadersConfig);
  try {
    await holder.next('ready');
    // The first, untimed join waits for the seed to be in (its state as big as the seed) and warms the JIT.
    const base = { target: server.target(doc!), warmUpUntilBytes: Math.floor(fixture.state.length * 0.9), pauseMs: 1500 };
    const single = await latecomers({ ...base, concurrent: 1, rounds: 5 });
    const many = await latecomers({ ...base, concurrent, rounds: 1 });
    const result: ColdJoinResult = {
      server: kind,
      from: 'memory',
      single: single.ms.map((r) => r[0]!),
      concurrent: stats(many.ms[0]!),
      concurrentCount: concurrent,
      stateBytes: single.stateBytes,
      serverLoadMs: [],
    };
    progress(`${kind} cold join (in memory): 1 → ${result.single.map((ms) => ms.toFixed(0)).join(', ')} ms; ${concurrent} at once → p50 ${result.concurrent!.p50.toFixed(0)}, last ${result.concurrent!.max.toFixed(0)} ms`);
    return result;
  } finally {
    await holder.stop();
    await server.stop();
  }
}

/** Bridgelog with the incident on disk only: its log written record by record, as the server would have. */
export async function coldJoinFromDisk(fixture: IncidentFixture, concurrent: number): Promise<ColdJoinResult[]> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bridgelog-bench-'));
  try {
    let server = await ServerUnderTest.start('bridgelog', { dataDir, label: 'cold-join-setup' });
    const [incident] = await server.createDocs(1, 'cold join from disk');
    await server.stop();

    const history = new IncidentHistory(path.join(dataDir, 'incidents', incident!));
    const loaded = await history.load(pino({ level: 'silent' }));
    const log = new UpdateLog(history.logFile, loaded.log, () => undefined, (e) => {
      throw e;
    });
    for (const u of fixture.updates) log.append('bench-user', u);
    await log.close();
    fs.rmSync(history.checkpointFile, { force: true });

    // Each join starts a fresh server, so the document is on disk only; stopping it writes the checkpoint.
    const join = async (count: number) => {
      server = await ServerUnderTest.start('bridgelog', { dataDir, label: `cold-join-disk-${count}-${Date.now()}` });
      try {
        const r = await latecomers({ target: server.target(incident!), concurrent: count, rounds: 1, warmUpUntilBytes: 0, pauseMs: 0 });
        return { ms: r.ms[0]!, stateBytes: r.stateBytes, loadMs: loadTimes(server.output()) };
      } finally {
        await server.stop();
      }
    };
    const fromLog = await join(1);
    const fromCheckpoint = [await join(1), await join(1), await join(1)];
    const many = await join(concurrent);
    const results: ColdJoinResult[] = [
      { server: 'bridgelog', from: 'log', single: fromLog.ms, concurrent: null, concurrentCount: 0, stateBytes: fromLog.stateBytes, serverLoadMs: fromLog.loadMs },
      {
        server: 'bridgelog',
        from: 'checkpoint',
        single: fromCheckpoint.map((j) => j.ms[0]!),
        concurrent: stats(many.ms),
        concurrentCount: concurrent,
        stateBytes: many.stateBytes,
        serverLoadMs: [...fromCheckpoint.flatMap((j) => j.loadMs), ...many.loadMs],
      },
    ];
    progress(`bridgelog cold join from disk: log → ${fromLog.ms[0]!.toFixed(0)} ms; checkpoint → ${results[1]!.single.map((ms) => ms.toFixed(0)).join(', ')} ms; ${concurrent} at once → last ${results[1]!.concurrent!.max.toFixed(0)} ms`);
    return results;
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

