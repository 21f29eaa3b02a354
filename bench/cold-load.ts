/**
 * Cold load: an incident with 10k entries written by 100k updates, not in memory; a latecomer
 * connects. Timed from the socket opening to the full state (sync step 2) arriving — once with no
 * checkpoint (the whole log replayed) and once from the checkpoint written at shutdown.
 */
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import * as Y from 'yjs';
import { pino } from 'pino';
import { createEntry, entryText } from '../shared/schema/doc.js';
import { IncidentHistory } from '../server/history/incident-history.js';
import { UpdateLog } from '../server/history/update-log.js';
import { ADMIN, api, freePort, openSocket, startChildServer, syncStep1Empty } from './lib.js';

export interface ColdLoadResult {
  entries: number;
  updates: number;
  rawUpdateBytes: number;
  logBytes: number;
  checkpointBytes: number;
  joinNoCheckpointMs: number;
  serverLoadNoCheckpointMs: number;
  joinFromCheckpointMs: number;
  serverLoadFromCheckpointMs: number;
  stateBytes: number;
}

async function timeJoin(url: string, incidentId: string): Promise<{ ms: number; bytes: number }> {
  const started = performance.now();
  const ws = await openSocket(`${url.replace(/^http/, 'ws')}/collab/${incidentId}?token=${ADMIN}`);
  ws.send(syncStep1Empty());
  return new Promise((resolve) => {
    ws.on('message', (data: Buffer) => {
      if (data[0] === 0 && data[1] === 1) {
        resolve({ ms: performance.now() - started, bytes: data.length });
        ws.terminate();
      }
    });
  });
}

const loadMs = (output: string) => Number(/"ms":(\d+),"msg":"incident document loaded"/.exec(output)?.[1] ?? NaN);

export async function coldLoad(entries = 10_000, updates = 100_000): Promise<ColdLoadResult> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bridgelog-bench-'));
  const env = { PORT: String(await freePort()), DATA_DIR: dataDir, BRIDGELOG_BOOTSTRAP_TOKEN: ADMIN, LOG_LEVEL: 'info' };
  let server = await startChildServer(env);
  const incident = await api(server.url, 'POST', '/api/incidents', ADMIN, { title: 'cold load' });
  server.process.kill('SIGTERM');
  await server.exited;

  // Write the history as the server would have: one record per update.
  const history = new IncidentHistory(path.join(dataDir, 'incidents', incident.id));
  const loaded = await history.load(pino({ level: 'silent' }));
  const log = new UpdateLog(history.logFile, loaded.log, () => undefined, (e) => { throw e; });
  const doc = loaded.doc;
  let rawUpdateBytes = 0;
  doc.on('update', (u: Uint8Array) => {
    rawUpdateBytes += u.length;
    log.append('bench-user', u);
  });
  const ids: string[] = [];
  for (let i = 0; i < entries; i++) {
    ids.push(createEntry(doc, { kind: 'test', title: `test ${i}`, ranAt: new Date(Date.UTC(2026, 2, 4, 6, 0, i)).toISOString(), command: `ping -c 3 10.0.${i % 256}.1` }));
  }
  for (let i = entries; i < updates; i++) {
    const text = entryText(doc, ids[i % ids.length]!, 'observations')!;
    text.insert(text.length, 'rtt ok; ');
  }
  await log.close();
  fs.rmSync(history.checkpointFile, { force: true });

  server = await startChildServer(env);
  const first = await timeJoin(server.url, incident.id);
  const serverLoadNoCheckpointMs = loadMs(server.output());
  server.process.kill('SIGTERM'); // graceful: writes a checkpoint
  await server.exited;

  server = await startChildServer(env);
  const second = await timeJoin(server.url, incident.id);
  const serverLoadFromCheckpointMs = loadMs(server.output());
  server.process.kill('SIGTERM');
  await server.exited;

  const result: ColdLoadResult = {
    entries,
    updates,
    rawUpdateBytes,
    logBytes: fs.statSync(history.logFile).size,
    checkpointBytes: fs.statSync(history.checkpointFile).size,
    joinNoCheckpointMs: first.ms,
    serverLoadNoCheckpointMs,
    joinFromCheckpointMs: second.ms,
    serverLoadFromCheckpointMs,
    stateBytes: second.bytes,
  };
  fs.rmSync(dataDir, { recursive: true, force: true });
  return result;
}
