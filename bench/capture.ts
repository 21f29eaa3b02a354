/**
 * Capture analysis and upload on a ~1 GB capture, side by side with Wireshark's own tools in one run:
 * our analysis (a process of its own), `capinfos`, and `tshark -q -z io,stat,0.001`: MB/s from the
 * page cache and peak RSS (GNU time's max resident set). Then the same file uploaded over loopback
 * to a Bridgelog server: MB/s and the server's RSS growth.
 * Run: node --import tsx bench/capture.ts [sizeMB]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { burstyTraffic, writePcap } from '../test/helpers/capture-writer.js';
import { freePort, startChildServer } from '../test/helpers/child-server.js';

const SIZE_MB = Number(process.argv[2] ?? 1024);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bridgelog-capture-bench-'));
const file = path.join(dir, 'big.pcap');

// The capture: bursty traffic, written in slices (never all in memory).
const fd = fs.openSync(file, 'w');
fs.writeSync(fd, writePcap([], { nanos: true, little: true }));
let start = 1_772_604_750_000_000_000n;
for (let i = 0; fs.fstatSync(fd).size < SIZE_MB * 1e6; i++) {
  const slice = burstyTraffic(start, 20_000, i + 1);
  start = slice.at(-1)!.ns;
  fs.writeSync(fd, writePcap(slice, { nanos: true, little: true }).subarray(24));
}
fs.closeSync(fd);
const bytes = fs.statSync(file).size;
execFileSync('cat', [file], { stdio: ['ignore', 'ignore', 'ignore'] }); // into the page cache

/** Runs a command under GNU time: wall seconds and peak RSS (KiB). */
function measure(cmd: string, args: string[]): { seconds: number; rssMiB: number; out: string } {
  const t = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', 'MAXRSS %M', cmd, ...args], { encoding: 'utf8', maxBuffer: 1 << 30 });
  const seconds = (performance.now() - t) / 1000;
  const rss = Number(/MAXRSS (\d+)/.exec(r.stderr)?.[1] ?? NaN) / 1024;
  return { seconds, rssMiB: rss, out: r.stdout };
}

const analyzer = path.join(dir, 'analyze.mjs');
fs.writeFileSync(analyzer, `
import { analyzeCapture } from ${JSON.stringify(path.resolve('dist/server/capture/capture-analysis.js'))};
const a = await analyzeCapture(process.argv[2]);
console.log(JSON.stringify({ packets: a.packets, bytes: a.bytes, msOverCapacity: a.bursts.msOverCapacity }));
`);
const ours = measure(process.execPath, [analyzer, file]);
const capinfos = measure('capinfos', ['-c', '-d', file]);
const tshark = measure('tshark', ['-q', '-r', file, '-z', 'io,stat,0.001']);
const mbps = (s: number) => (bytes / 1e6 / s).toFixed(0);

// Upload over loopback to a server of its own.
const server = await startChildServer({ PORT: String(await freePort()), DATA_DIR: path.join(dir, 'data'), BRIDGELOG_BOOTSTRAP_TOKEN: 'bl_bench-admin-token-0123456789', UPLOAD_LIMIT_CAPTURE_MB: '4096' });
const auth = { authorization: 'Bearer bl_bench-admin-token-0123456789' };
const rss = async () => Number(/^process_resident_memory_bytes (\d+)/m.exec(await (await fetch(`${server.url}/metrics`)).text())?.[1] ?? NaN);
const incident = (await (await fetch(`${server.url}/api/incidents`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{"title":"upload bench"}' })).json()) as { id: string };
const before = await rss();
let peak = before;
const sampler = setInterval(() => void rss().then((v) => (peak = Math.max(peak, v))), 50);
const form = new FormData();
form.append('file', await fs.openAsBlob(file), 'big.pcap');
const t = performance.now();
const res = await fetch(`${server.url}/api/incidents/${incident.id}/attachments`, { method: 'POST', headers: auth, body: form });
const uploadSeconds = (performance.now() - t) / 1000;
clearInterval(sampler);
const uploaded = (await res.json()) as { size: number };
server.process.kill('SIGKILL');

console.log(`Capture of ${(bytes / 1e6).toFixed(0)} MB (${JSON.parse(ours.out).packets} packets), from the page cache, on ${os.cpus()[0]?.model}, ${os.cpus().length} cores:`);
console.log('| tool | seconds | MB/s | peak RSS (MiB) |');
console.log('|---|---:|---:|---:|');
console.log(`| Bridgelog analysis (all views, bursts, conversations) | ${ours.seconds.toFixed(2)} | ${mbps(ours.seconds)} | ${ours.rssMiB.toFixed(0)} |`);
console.log(`| capinfos -c -d (count and duration only) | ${capinfos.seconds.toFixed(2)} | ${mbps(capinfos.seconds)} | ${capinfos.rssMiB.toFixed(0)} |`);
console.log(`| tshark -q -z io,stat,0.001 | ${tshark.seconds.toFixed(2)} | ${mbps(tshark.seconds)} | ${tshark.rssMiB.toFixed(0)} |`);
console.log(`Upload over loopback: ${(uploaded.size / 1e6).toFixed(0)} MB in ${uploadSeconds.toFixed(2)} s = ${mbps(uploadSeconds)} MB/s; server RSS +${((peak - before) / 2 ** 20).toFixed(0)} MiB (${(before / 2 ** 20).toFixed(0)} → ${(peak / 2 ** 20).toFixed(0)} MiB).`);
fs.rmSync(dir, { recursive: true, force: true });
process.exit(0);
