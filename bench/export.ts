/**
 * Export of a big incident: 5,000 entries and 200 screenshots. Markdown time (target ≤ 500 ms) and
 * HTML streamed with flat memory: the server's RSS is sampled while the HTML (≈ all screenshots
 * inlined) is downloaded and compared with the size of the file.
 * Run: node --import tsx bench/export.ts [entries] [screenshots]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import * as Y from 'yjs';
import WebSocket from 'ws';
import * as decoding from 'lib0/decoding';
import { WebsocketProvider } from 'y-websocket';
import { createEntry, entriesOf } from '../shared/schema/doc.js';
import { freePort, startChildServer } from '../test/helpers/child-server.js';

const ENTRIES = Number(process.argv[2] ?? 5000);
const SHOTS = Number(process.argv[3] ?? 200);
const ADMIN = 'bl_bench-admin-token-0123456789';
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bridgelog-export-bench-'));
const server = await startChildServer({ PORT: String(await freePort()), DATA_DIR: dataDir, BRIDGELOG_BOOTSTRAP_TOKEN: ADMIN, LOG_LEVEL: 'warn' });
const auth = { authorization: `Bearer ${ADMIN}` };
const json = async (res: Response) => {
  if (!res.ok) throw new Error(`${res.status} ${await res.text()}`);
  return res.json() as Promise<{ id: string }>;
};
const incident = await json(await fetch(`${server.url}/api/incidents`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ title: 'export bench' }) }));

// 200 distinct ~100 KB "screenshots" (PNG signature + noise: sniffed as images).
const shotIds: string[] = [];
const png = Buffer.from('89504e470d0a1a0a', 'hex');
for (let i = 0; i < SHOTS; i++) {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(Buffer.concat([png, randomBytes(100 * 1024)]))]), `screenshot-${i}.png`);
  shotIds.push((await json(await fetch(`${server.url}/api/incidents/${incident.id}/attachments`, { method: 'POST', headers: auth, body: form }))).id);
}

const doc = new Y.Doc();
const provider = new WebsocketProvider(`${server.url.replace(/^http/, 'ws')}/collab`, incident.id, doc, {
  params: { token: ADMIN }, WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket, disableBc: true,
});
let durable = 0;
provider.messageHandlers[100] = (_e, d) => void (durable = Y.decodeStateVector(decoding.readVarUint8Array(d)).get(doc.clientID) ?? 0);
await new Promise<void>((r) => provider.once('sync', () => r()));
for (let i = 0; i < ENTRIES; i++) {
  const id = createEntry(doc, {
    kind: 'test', title: `test ${i}: iperf3 to db${i % 40}`, ranAt: new Date(Date.UTC(2026, 2, 4, 6, 0, i)).toISOString(),
    command: `iperf3 -c db${i % 40} -t 30 -u -b 900M`, observations: `**${i % 7}%** loss at 900 Mbit/s; jitter ${i % 13} ms\n\n- retried twice\n- same result`, conclusion: i % 5 === 0 ? 'loss only above 800 Mbit/s' : '',
  });
  if (i % Math.ceil(ENTRIES / SHOTS) === 0 && shotIds.length) (entriesOf(doc).get(id)!.get('attachments') as Y.Array<string>).push([shotIds.shift()!]);
}
while (durable < Y.getState(doc.store, doc.clientID)) await new Promise((r) => setTimeout(r, 50));
provider.destroy();

const rss = async () => Number(/^process_resident_memory_bytes (\d+)/m.exec(await (await fetch(`${server.url}/metrics`)).text())?.[1] ?? NaN);
const exportUrl = (format: string) => `${server.url}/api/incidents/${incident.id}/export?format=${format}`;

// Markdown: warm once (loads the document), then time 5 runs.
await (await fetch(exportUrl('md'), { headers: auth })).text();
const mdTimes: number[] = [];
let mdBytes = 0;
for (let i = 0; i < 5; i++) {
  const t = performance.now();
  mdBytes = (await (await fetch(exportUrl('md'), { headers: auth })).text()).length;
  mdTimes.push(performance.now() - t);
}

// HTML, streamed: sample the server's RSS while reading the body slowly-ish.
const before = await rss();
let peak = before;
const sampler = setInterval(() => void rss().then((v) => (peak = Math.max(peak, v))), 25);
const t0 = performance.now();
const res = await fetch(exportUrl('html'), { headers: auth });
let htmlBytes = 0;
for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) htmlBytes += chunk.length;
const htmlMs = performance.now() - t0;
clearInterval(sampler);

mdTimes.sort((a, b) => a - b);
const mb = (n: number) => (n / 2 ** 20).toFixed(1);
console.log(`Export of ${ENTRIES} entries with ${SHOTS} screenshots (${os.cpus()[0]?.model}, ${os.cpus().length} cores, Node ${process.version}):`);
console.log(`- Markdown: median ${mdTimes[2]!.toFixed(0)} ms (min ${mdTimes[0]!.toFixed(0)}, max ${mdTimes[4]!.toFixed(0)}), ${mb(mdBytes)} MiB`);
console.log(`- HTML: ${mb(htmlBytes)} MiB streamed in ${htmlMs.toFixed(0)} ms; server RSS ${mb(before)} MiB before, peak ${mb(peak)} MiB during (+${mb(peak - before)} MiB)`);
server.process.kill('SIGTERM');
await server.exited;
fs.rmSync(dataDir, { recursive: true, force: true });
process.exit(0);
