/**
 * A latecomer opens an incident that already holds 5,000 entries, in Chromium: how long from
 * opening the page to a usable log, i.e. the header, the count of all entries, and the first screen
 * of entries rendered (then: until the server's authorship is shown on them).
 *
 * The server runs in its own process; the entries are written by the stock y-websocket provider,
 * one transaction each, as responders would have. Each cold run is a fresh browser context (nothing
 * in IndexedDB or the service worker): a true latecomer. The warm run is the same person reloading.
 * Times are read in the page (performance.now(), from navigation start), polled every frame.
 *
 *   node --import tsx bench/web-latecomer.ts [entries=5000] [runs=5]
 * Needs the built web app (`npm run build`) and /usr/bin/chromium.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as Y from 'yjs';
import * as decoding from 'lib0/decoding';
import WebSocket from 'ws';
import { WebsocketProvider } from 'y-websocket';
import { chromium, type Browser, type Page } from 'playwright-core';
import { MessageType } from '../shared/protocol.js';
import { createEntry, EntryKinds } from '../shared/schema/doc.js';
import { freePort, startChildServer } from '../test/helpers/child-server.js';

const ENTRIES = Number(process.argv[2] ?? 5000);
const RUNS = Number(process.argv[3] ?? 5);
const ADMIN = 'bl_bench-admin-token-0123456789';
const PASSWORD = 'latecomer passphrase';

async function api<T>(url: string, method: string, route: string, body?: unknown): Promise<T> {
  const res = await fetch(url + route, { method, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Writes `count` entries of realistic size through the stock provider, and waits until they are durable. */
async function seed(url: string, incidentId: string, token: string, count: number): Promise<number> {
  const doc = new Y.Doc();
  const provider = new WebsocketProvider(`${url.replace(/^http/, 'ws')}/collab`, incidentId, doc, {
    params: { token },
    WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
    disableBc: true,
  });
  let durable = new Map<number, number>();
  let onDurable = () => {};
  provider.messageHandlers[MessageType.persisted] = (_encoder, decoder) => {
    durable = Y.decodeStateVector(decoding.readVarUint8Array(decoder));
    onDurable();
  };
  const started = performance.now();
  await new Promise<void>((resolve) => provider.once('sync', () => resolve()));
  await new Promise<void>((resolve) => {
    onDurable = () => {
      if ((durable.get(doc.clientID) ?? 0) >= Y.getState(doc.store, doc.clientID)) resolve();
    };
    const start = Date.UTC(2026, 2, 4, 6, 0, 0);
    for (let i = 0; i < count; i++) {
      createEntry(doc, {
        kind: EntryKinds[i % EntryKinds.length]!,
        title: `iperf3 from app${String(i % 40).padStart(2, '0')} to db01, run ${i}`,
        ranAt: new Date(start + i * 20_000).toISOString(),
        command: `iperf3 -c db01 -t 30 -u -b ${100 + (i % 9) * 100}M --logfile /tmp/iperf-${i}.log`,
        observations: `**${(i % 13) * 0.7} %** loss at ${100 + (i % 9) * 100} Mbit/s\n- jitter ${(i % 7) * 0.3} ms\n- ${i % 3 === 0 ? 'bursts of drops every ~1 s' : 'steady'}\n\nSee the capture on the bastion.`,
        conclusion: i % 4 === 0 ? `loss grows with rate above ${400 + (i % 5) * 100} Mbit/s` : '',
      });
    }
  });
  provider.destroy();
  doc.destroy();
  return performance.now() - started;
}

/** Waits in the page until `condition` holds and answers when it first did (ms since navigation start). */
function whenInPage(page: Page, condition: (count: string) => boolean): Promise<number> {
  return page
    .waitForFunction(condition, ENTRIES.toLocaleString('en'), { polling: 'raf', timeout: 120_000 })
    .then(() => page.evaluate(() => (window as unknown as { __seen: Record<string, number> }).__seen))
    .then((seen) => seen[condition.name]!);
}

// Each condition notes when it first held, in the page's own clock: the poll that sees it may come a frame later.
function usable(count: string): boolean {
  const ok = document.querySelector('[data-testid=entry-count]')?.textContent === `${count} entries` && document.querySelector('article.entry h3') !== null;
  const w = window as unknown as { __seen?: Record<string, number> };
  if (ok) (w.__seen ??= {}).usable ??= performance.now();
  return ok;
}
function attributed(): boolean {
  const ok = [...document.querySelectorAll('article.entry .byline')].some((b) => b.textContent !== 'by …');
  const w = window as unknown as { __seen?: Record<string, number> };
  if (ok) (w.__seen ??= {}).attributed ??= performance.now();
  return ok;
}
function saved(): boolean {
  const ok = document.querySelector('[data-testid=save-state]')?.textContent === 'Saved';
  const w = window as unknown as { __seen?: Record<string, number> };
  if (ok) (w.__seen ??= {}).saved ??= performance.now();
  return ok;
}

interface Run {
  usableMs: number;
  attributedMs: number;
  savedMs: number;
  renderedEntries: number;
}

async function open(page: Page, url: string): Promise<Run> {
  await page.goto(url, { waitUntil: 'commit' });
  const [usableMs, attributedMs, savedMs] = await Promise.all([whenInPage(page, usable), whenInPage(page, attributed), whenInPage(page, saved)]);
  return { usableMs, attributedMs, savedMs, renderedEntries: await page.locator('article.entry').count() };
}

async function newLatecomer(browser: Browser, serverUrl: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  const res = await context.request.post(`${serverUrl}/api/auth/login`, { data: { name: 'latecomer', password: PASSWORD } });
  if (!res.ok()) throw new Error(`login: ${res.status()}`);
  return context.newPage();
}

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bridgelog-web-latecomer-'));
const server = await startChildServer({ PORT: String(await freePort()), DATA_DIR: dataDir, BRIDGELOG_BOOTSTRAP_TOKEN: ADMIN, LOG_LEVEL: 'info' });
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const writer = await api<{ token: string }>(server.url, 'POST', '/api/users', { name: 'writer', role: 'responder' });
  await api(server.url, 'POST', '/api/users', { name: 'latecomer', role: 'responder', password: PASSWORD });
  const incident = await api<{ id: string }>(server.url, 'POST', '/api/incidents', { title: `Latecomer benchmark: ${ENTRIES} entries`, severity: 'sev2' });
  const seedMs = await seed(server.url, incident.id, writer.token, ENTRIES);
  const url = `${server.url}/incidents/${incident.id}`;
  const stateBytes = (await (await fetch(`${server.url}/api/incidents/${incident.id}/state`, { headers: { authorization: `Bearer ${ADMIN}` } })).arrayBuffer()).byteLength;

  const cold: Run[] = [];
  for (let i = 0; i < RUNS; i++) {
    const page = await newLatecomer(browser, server.url);
    cold.push(await open(page, url));
    await page.context().close();
  }
  // The same person again: the log is in IndexedDB and the app's files with the service worker.
  const page = await newLatecomer(browser, server.url);
  await open(page, url);
  await page.evaluate(() => navigator.serviceWorker.ready);
  const warm = await open(page, url);
  const heap = await page.evaluate(() => (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? NaN);

  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const ms = (n: number) => `${Math.round(n)} ms`;
  const lines = [
    `## Latecomer in Chromium: ${ENTRIES.toLocaleString('en')} entries (${new Date().toISOString()})`,
    '',
    `Machine: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, Node ${process.version}, Chromium headless. Server in its own process on the same machine.`,
    `Seeded by the stock provider, one transaction per entry: ${ms(seedMs)} until all durable; full state ${(stateBytes / 1e6).toFixed(2)} MB.`,
    '',
    '| run | page open → usable log | → authors shown | → connected ("Saved") | entries in the DOM |',
    '|---|---:|---:|---:|---:|',
    ...cold.map((r, i) => `| cold ${i + 1} | ${ms(r.usableMs)} | ${ms(r.attributedMs)} | ${ms(r.savedMs)} | ${r.renderedEntries} |`),
    `| **cold, median** | **${ms(median(cold.map((r) => r.usableMs)))}** | **${ms(median(cold.map((r) => r.attributedMs)))}** | ${ms(median(cold.map((r) => r.savedMs)))} | |`,
    `| warm (reload: IndexedDB + service worker) | ${ms(warm.usableMs)} | ${ms(warm.attributedMs)} | ${ms(warm.savedMs)} | ${warm.renderedEntries} |`,
    '',
    `JS heap after the warm run: ${(heap / 1e6).toFixed(0)} MB.`,
  ];
  console.log(lines.join('\n'));
  fs.mkdirSync('.bench', { recursive: true });
  fs.writeFileSync('.bench/web-latecomer.json', JSON.stringify({ entries: ENTRIES, seedMs, stateBytes, cold, warm, heap }, null, 2));
} finally {
  await browser.close();
  server.process.kill('SIGTERM');
  await server.exited;
  fs.rmSync(dataDir, { recursive: true, force: true });
}
