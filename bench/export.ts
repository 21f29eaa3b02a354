/**
 * Export of a big incident: 5,000 entries and 200 screenshots. Markdown time (target ≤ 500 ms) and
 * HTML streamed with flat memory: the server's RSS is sampled while the HTML (≈ all screenshots
 * inlined) is downloaded and compared with the size of the file.
 * Part of `npm run bench`; alone: node --import tsx bench/export.ts [entries] [screenshots]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import * as Y from 'yjs';
import WebSocket from 'ws';
import * as decoding from 'lib0/decoding';
import { WebsocketProvider } from 'y-websocket';
import { createEntry, entriesOf } from '../shared/schema/doc.js';
import { startChildServer } from '../test/helpers/child-server.js';
import { ADMIN, cpuShares, freePort, progress, quietMachine } from './lib.js';
import { exportSection } from './report.js';

export interface ExportShape {
  entries: number;
  screenshots: number;
}

export interface ExportResult {
  shape: ExportShape;
  /** Five timed Markdown exports after a warm-up, ms, sorted. */
  markdownMs: number[];
  markdownBytes: number;
  htmlBytes: number;
  htmlMs: number;
  /** The server's RSS before the HTML export and the most it reached while streaming it, bytes. */
  rssBefore: number;
  rssPeak: number;
  /** Cores other processes used while we measured (a shared machine). */
  othersCpu: number;
}

/** A server of its own with the incident seeded through the stock provider, then the exports timed. */
export async function exportBench(shape: ExportShape): Promise<ExportResult> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bridgelog-export-bench-'));
  const server = await startChildServer({ PORT: String(await freePort()), DATA_DIR: dataDir, BRIDGELOG_BOOTSTRAP_TOKEN: ADMIN, LOG_LEVEL: 'warn' });
  try {
    const auth = { authorization: `Bearer ${ADMIN}` };
    const json = async (res: Response) => {
      if (!res.ok) throw new Error(`${res.status} ${await res.text()}`);
      return res.json() as Promise<{ id: string }>;
    };
    progress(`export: seeding ${shape.entries} entries with ${shape.screenshots} screenshots`);
    const incident = await json(await fetch(`${server.url}/api/incidents`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ title: 'export bench' }) }));

    // Distinct ~100 KB "screenshots" (PNG signature + noise: sniffed as images).
    const shotIds: string[] = [];
    const png = Buffer.from('89504e470d0a1a0a', 'hex');
    for (let i = 0; i < shape.screenshots; i++) {
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
    for (let i = 0; i < shape.entries; i++) {
      const id = createEntry(doc, {
        kind: 'test', title: `test ${i}: iperf3 to db${i % 40}`, ranAt: new Date(Date.UTC(2026, 2, 4, 6, 0, i)).toISOString(),
        command: `iperf3 -c db${i % 40} -t 30 -u -b 900M`, observations: `**${i % 7}%** loss at 900 Mbit/s; jitter ${i % 13} ms\n\n- retried twice\n- same result`, conclusion: i % 5 === 0 ? 'loss only above 800 Mbit/s' : '',
      });
      // Spread evenly: screenshot k goes to entry k × entries / screenshots.
      const attached = shape.screenshots - shotIds.length;
      if (shotIds.length > 0 && i >= (attached * shape.entries) / shape.screenshots) (entriesOf(doc).get(id)!.get('attachments') as Y.Array<string>).push([shotIds.shift()!]);
    }
    while (durable < Y.getState(doc.store, doc.clientID)) await new Promise((r) => setTimeout(r, 50));
    provider.destroy();
    doc.destroy(); // and with it the provider's awareness, whose timer would keep the process alive

    const rss = async () => Number(/^process_resident_memory_bytes (\d+)/m.exec(await (await fetch(`${server.url}/metrics`, { headers: auth })).text())?.[1] ?? NaN);
    const exportUrl = (format: string) => `${server.url}/api/incidents/${incident.id}/export?format=${format}`;

    await quietMachine();
    const others = cpuShares();
    // Markdown: warm once (loads the document), then time 5 runs.
    await (await fetch(exportUrl('md'), { headers: auth })).text();
    const markdownMs: number[] = [];
    let markdownBytes = 0;
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      markdownBytes = Buffer.byteLength(await (await fetch(exportUrl('md'), { headers: auth })).text());
      markdownMs.push(performance.now() - t);
    }

    // HTML, streamed: sample the server's RSS while reading the body.
    const rssBefore = await rss();
    let rssPeak = rssBefore;
    const sampler = setInterval(() => void rss().then((v) => (rssPeak = Math.max(rssPeak, v))), 25);
    const t0 = performance.now();
    const res = await fetch(exportUrl('html'), { headers: auth });
    let htmlBytes = 0;
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) htmlBytes += chunk.length;
    const htmlMs = performance.now() - t0;
    clearInterval(sampler);

    return { shape, markdownMs: markdownMs.sort((a, b) => a - b), markdownBytes, htmlBytes, htmlMs, rssBefore, rssPeak, othersCpu: others().othersCores };
  } finally {
    server.process.kill('SIGTERM');
    await server.exited;
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const result = await exportBench({ entries: Number(process.argv[2] ?? 5000), screenshots: Number(process.argv[3] ?? 200) });
  console.log(exportSection([result]).join('\n'));
}
