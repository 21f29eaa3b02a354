/**
 * `npm run bench`: Bridgelog's own figures (issue 9 adds the peer servers to the same run).
 * Prints a Markdown section for BENCHMARKS.md and writes the raw numbers to .bench/results.json.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ADMIN, freePort, machine, startChildServer } from './lib.js';
import { fanout, type FanoutResult } from './fanout.js';
import { coldLoad } from './cold-load.js';

const quick = process.argv.includes('--quick');
const fmt = (n: number) => (Number.isNaN(n) ? '–' : n < 10 ? n.toFixed(2) : n.toFixed(1));

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bridgelog-bench-'));
const server = await startChildServer({ PORT: String(await freePort()), DATA_DIR: dataDir, BRIDGELOG_BOOTSTRAP_TOKEN: ADMIN, LOG_LEVEL: 'info' });
const fan: FanoutResult[] = [];
for (const readers of quick ? [100] : [100, 200]) fan.push(await fanout(server, readers, 20, quick ? 5 : 15));
server.process.kill('SIGTERM');
await server.exited;
fs.rmSync(dataDir, { recursive: true, force: true });

const cold = await coldLoad(quick ? 1_000 : 10_000, quick ? 10_000 : 100_000);

const lines = [
  `## Run of ${new Date().toISOString()}`,
  '',
  `Machine: ${machine()}. Server in its own process; load generator in another (raw sockets, readers do not decode Yjs).`,
  '',
  '### Update → durable → delivered (1 writer, 20 updates/s, every update fdatasync\'d before broadcast)',
  '',
  '| readers | updates sent | delivered | durable ack p50 / p99 / max (ms) | delivered p50 / p99 / max (ms) |',
  '|---:|---:|---:|---|---|',
  ...fan.map((r) => `| ${r.readers} | ${r.sent} | ${(r.deliveryRatio * 100).toFixed(2)} % | ${fmt(r.durable.p50)} / ${fmt(r.durable.p99)} / ${fmt(r.durable.max)} | ${fmt(r.delivered.p50)} / ${fmt(r.delivered.p99)} / ${fmt(r.delivered.max)} |`),
  '',
  `### Cold load: ${cold.entries.toLocaleString('en')} entries written by ${cold.updates.toLocaleString('en')} updates`,
  '',
  '| | latecomer: connect → full state (ms) | server: load document (ms) |',
  '|---|---:|---:|',
  `| no checkpoint (whole log replayed) | ${fmt(cold.joinNoCheckpointMs)} | ${fmt(cold.serverLoadNoCheckpointMs)} |`,
  `| from checkpoint | ${fmt(cold.joinFromCheckpointMs)} | ${fmt(cold.serverLoadFromCheckpointMs)} |`,
  '',
  `Storage: raw update bytes ${(cold.rawUpdateBytes / 1e6).toFixed(2)} MB; log ${(cold.logBytes / 1e6).toFixed(2)} MB ` +
    `(${(cold.logBytes / cold.rawUpdateBytes).toFixed(2)}×, 8-byte header + seq, time and user per record); checkpoint ${(cold.checkpointBytes / 1e6).toFixed(2)} MB; ` +
    `full state sent to the latecomer ${(cold.stateBytes / 1e6).toFixed(2)} MB.`,
  '',
];
console.log(lines.join('\n'));
fs.mkdirSync('.bench', { recursive: true });
fs.writeFileSync('.bench/results.json', JSON.stringify({ machine: machine(), at: new Date().toISOString(), fanout: fan, coldLoad: cold }, null, 2));
