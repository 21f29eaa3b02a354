/**
 * The postmortem report in every format, parsed back: Markdown renders to the same content, JSON
 * round-trips the incident and validates against its published JSON Schema, HTML runs no script and
 * shows every image in a real browser, the zip holds every attachment with its SHA-256 — as of now and
 * as of an earlier moment.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import { marked } from 'marked';
import { chromium, type Browser } from 'playwright-core';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { createEntry, createHypothesis, entriesOf, listEntries, metaOf, setVerdict } from '../../shared/schema/doc.js';
import { exportJsonSchema } from '../../shared/schema/export.js';
import { ADMIN_TOKEN, startTestServer, type TestServer } from '../helpers/server.js';
import { unzip } from '../helpers/zip.js';
import { removeBlob } from '../helpers/stored.js';
import { connect, synced, type CollabClient } from '../helpers/collab-client.js';
import { burstyTraffic, writePcap } from '../helpers/capture-writer.js';
import type { Report } from '../../server/export/report.js';

const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360f8cfc0f01f0005000201a5f6c8e20000000049454e44ae426082', 'hex');
/** A real PNG of random pixels: incompressible, so its file spans several read chunks. */
function noisePng(side: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type), data]);
    const frame = Buffer.alloc(8 + data.length + 4);
    frame.writeUInt32BE(data.length, 0);
    body.copy(frame, 4);
    frame.writeUInt32BE(zlib.crc32(body), 8 + data.length);
    return frame;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(side, 0);
  header.writeUInt32BE(side, 4);
  header.set([8, 6], 8); // 8-bit RGBA
  const rows = Buffer.concat(Array.from({ length: side }, () => Buffer.concat([Buffer.from([0]), randomBytes(side * 4)])));
  return Buffer.concat([PNG.subarray(0, 8), chunk('IHDR', header), chunk('IDAT', zlib.deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}
const NOISE = noisePng(170);
const XSS = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2"> [click](javascript:window.__pwned=3) <svg onload="window.__pwned=4"></svg>';

let server: TestServer;
let alice: { id: string; token: string };
let bob: { id: string; token: string };
let incidentId: string;
let client: CollabClient;
let midpoint: string;
const uploaded: Array<{ id: string; name: string; sha256: string; kind: string }> = [];

async function upload(file: Buffer, name: string) {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(file)]), name);
  const res = await fetch(`${server.url}/api/incidents/${incidentId}/attachments`, { method: 'POST', headers: { authorization: `Bearer ${alice.token}` }, body: form });
  const a = (await res.json()) as { id: string; name: string; sha256: string; kind: string };
  uploaded.push(a);
  return a;
}

// A maintained validator, strict about the schema itself. Formats are not checked by ajv (it would need
// ajv-formats): every `date-time` in the schema also carries zod's pattern, which is.
const ajv = new Ajv2020({ strict: true, allErrors: true, validateFormats: false });
const published = ajv.compile(exportJsonSchema());
const exhaustive = ajv.compile({ ...exportJsonSchema({ exhaustive: true }), $id: 'exhaustive' }); // one schema per $id
/** Valid against the schema closed at every object: the export holds nothing the schema does not document. */
function expectValid(report: unknown) {
  exhaustive(report);
  expect(exhaustive.errors ?? []).toEqual([]);
}

const exportAs = (format: string, at?: string) => server.api('GET', `/api/incidents/${incidentId}/export?format=${format}${at ? `&at=${encodeURIComponent(at)}` : ''}`, { token: bob.token });

beforeAll(async () => {
  server = await startTestServer();
  alice = await server.createUser('responder', 'alice');
  bob = await server.createUser('responder', 'bob');
  incidentId = (await server.createIncident(alice.token, { title: 'Packet loss ny-sw01 <b>bold</b>', alertMatchers: ['site=ny'] })).id;
  const integration = (await (await server.api('POST', '/api/integrations', { token: ADMIN_TOKEN, body: { name: 'g', kind: 'generic' } })).json()) as { token: string };
  await server.api('POST', '/api/hooks/generic', { token: integration.token, body: { title: 'Discards on ny-sw01', labels: { site: 'ny' }, startsAt: '2026-03-04T06:00:00Z', fingerprint: 'd1' } });

  client = connect(server.wsUrl, incidentId, alice.token);
  await synced(client);
  const first = createEntry(client.doc, { kind: 'test', title: 'ping db01', ranAt: '2026-03-04T06:05:00.000Z', command: 'ping -c 3 db01', observations: '3/3 received', conclusion: 'db01 reachable' });
  await client.saved();
  await new Promise((r) => setTimeout(r, 20));
  midpoint = new Date().toISOString();
  await new Promise((r) => setTimeout(r, 20));

  const shot = await upload(PNG, 'screenshot.png');
  const noise = await upload(NOISE, 'noise.png');
  const capture = await upload(writePcap(burstyTraffic(1_772_604_750_123_456_789n, 1500), { nanos: true, little: true }), '../../ny-sw01 Mitschnitt ü.pcap');
  const gone = await upload(Buffer.from('a log that will go missing'), `${'x'.repeat(150)}.log`);
  await removeBlob(server, gone.sha256);
  await vi.waitFor(async () => expect(((await (await server.api('GET', `/api/attachments/${capture.id}/analysis`, { token: alice.token })).json()) as { status: string }).status).toBe('done'), { timeout: 20_000 });

  const second = createEntry(client.doc, { kind: 'test', title: 'tcpdump on Gi1/0/12', ranAt: '2026-03-04T06:20:00.000Z', command: 'tcpdump -i Gi1/0/12 -w cap.pcap', observations: `microbursts! ${XSS}`, conclusion: '1 ms saturation' });
  const h = createHypothesis(client.doc, '1 ms saturation on the uplink');
  client.doc.transact(() => {
    const attachments = entriesOf(client.doc).get(second)!.get('attachments') as Y.Array<string>;
    attachments.push([shot.id, capture.id, gone.id, noise.id]);
    setVerdict(client.doc, second, h, 'supports');
    setVerdict(client.doc, first, h, 'refutes');
  });
  await client.saved();
});
afterAll(async () => {
  client?.destroy();
  await server.close();
});

describe('export', () => {
  it('JSON holds everything, with authorship and both times of each entry', async () => {
    const res = await exportAs('json');
    expect(res.headers.get('content-disposition')).toMatch(/attachment; filename="incident-.*\.json"/);
    const r = (await res.json()) as Report;
    expectValid(r);
    expect(r.$schema).toBe('https://bridgelog.dev/schema/export/v1');
    expect(r.incident.title).toBe('Packet loss ny-sw01 <b>bold</b>');
    expect(r.entries.map((e) => e.title)).toEqual(['ping db01', 'tcpdump on Gi1/0/12']);
    const e = r.entries[1]!;
    expect(e).toMatchObject({ createdBy: { name: 'alice' }, ranAt: '2026-03-04T06:20:00.000Z', backfilled: true, command: 'tcpdump -i Gi1/0/12 -w cap.pcap' });
    expect(e.loggedAt! > e.ranAt).toBe(true);
    expect(e.attachments.map((a) => [a.kind, a.missing])).toEqual([['image', false], ['capture', false], ['text', true], ['image', false]]);
    expect(e.attachments[1]!.capture!.msOverCapacity).toBeGreaterThan(0);
    expect(r.summary.hypotheses[0]).toMatchObject({ statement: '1 ms saturation on the uplink', supportedBy: [e.id], refutedBy: [r.entries[0]!.id] });
    expect(r.alerts.map((a) => a.title)).toEqual(['Discards on ny-sw01']);
    expect(r.impact.start).toBe('2026-03-04T06:00:00.000Z');
    expect(r.responders.map((p) => p.name)).toEqual(['alice']);
    expect(r.timeline.map((t) => t.what)).toContain('Alert firing: Discards on ny-sw01');
    // Round trip: the entries are exactly the document's.
    const doc = new Y.Doc();
    Y.applyUpdate(doc, new Uint8Array(await (await server.api('GET', `/api/incidents/${incidentId}/state`, { token: bob.token })).arrayBuffer()));
    expect(r.entries.map(({ id, kind, title, ranAt, command, observations, conclusion, links, hypotheses }) => ({ id, kind, title, ranAt, command, observations, conclusion, links, hypotheses })))
      .toEqual(listEntries(doc).map(({ id, kind, title, ranAt, command, observations, conclusion, links, hypotheses }) => ({ id, kind, title, ranAt, command, observations, conclusion, links, hypotheses })));
    expect(r.entries.map((x) => x.attachments.map((a) => a.id).concat(x.unknownAttachments))).toEqual(listEntries(doc).map((x) => x.attachments));
  });

  it('Markdown renders to the same content, with the timeline and every test', async () => {
    const md = await (await exportAs('md')).text();
    expect(md).toMatch(/^# Packet loss ny-sw01 \\<b\\>bold\\<\/b\\>/);
    expect(md).toContain('| Time (UTC) | Who | What |');
    expect(md).toContain('```\ntcpdump -i Gi1/0/12 -w cap.pcap\n```');
    expect(md).toContain('missing on the server');
    const html = await marked.parse(md);
    expect(html).toContain('<h1>Packet loss ny-sw01 &lt;b&gt;bold&lt;/b&gt;</h1>');
    expect(html).toContain('<td>2026-03-04 06:20:00Z</td>');
    expect(html).toContain('db01 reachable');
  });

  it('HTML is one self-contained file that runs no script and shows every image in Chromium', async () => {
    const html = await (await exportAs('html')).text();
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/\son\w+=/i);
    expect(html).not.toMatch(/javascript:/i);
    expect(html).toContain('data:image/png;base64,');
    // An image read in chunks that are not whole 3-byte groups is still one exact encoding.
    expect(html).toContain(`data:image/png;base64,${NOISE.toString('base64')}"`);
    expect(html).toContain('<svg class="io"');
    const file = path.join(server.dataDir, 'report.html');
    fs.writeFileSync(file, html);
    const browser: Browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
    try {
      const page = await browser.newPage();
      await page.goto(`file://${file}`);
      const images = await page.evaluate(() => [...document.images].map((i) => ({ ok: i.complete && i.naturalWidth > 0 })));
      expect(images.length).toBeGreaterThan(0);
      expect(images.every((i) => i.ok)).toBe(true);
      expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
      await page.screenshot({ path: '/tmp/bridgelog-export.png', fullPage: true });
    } finally {
      await browser.close();
    }
  });

  it('the zip bundle holds the reports and every attachment, with matching SHA-256', async () => {
    const zip = Buffer.from(await (await exportAs('zip')).arrayBuffer());
    const files = await unzip(zip);
    expect([...files.keys()].sort()).toEqual(['attachments/ny-sw01 Mitschnitt ü.pcap', 'attachments/noise.png', 'attachments/screenshot.png', 'incident.json', 'report.html', 'report.md'].sort());
    for (const a of uploaded.filter((u) => u.kind !== 'text')) {
      const name = a.name;
      expect(createHash('sha256').update(files.get(`attachments/${name}`)!).digest('hex')).toBe(a.sha256);
    }
    expectValid(JSON.parse(files.get('incident.json')!.toString()));
    expect(files.get('report.md')!.toString()).toContain('(attachments/screenshot.png)');
    expect(files.get('report.html')!.toString()).toMatch(/<\/html>\n$/);
  });

  it('exports the incident as it was at an earlier moment, and refuses times it cannot answer', async () => {
    const r = (await (await exportAs('json', midpoint)).json()) as Report;
    expectValid(r);
    expect(r.asOf).toBe(midpoint);
    expect(r.entries.map((e) => e.title)).toEqual(['ping db01']);
    expect(r.summary.hypotheses).toEqual([]);
    const before = await exportAs('md', '2000-01-01T00:00:00Z');
    expect(before.status).toBe(400);
    expect(((await before.json()) as { error: string }).error).toMatch(/did not exist yet/);
    expect((await exportAs('md', 'yesterday')).status).toBe(400);
    expect((await exportAs('pdf')).status).toBe(400);
  });

  it('publishes its JSON Schema to anyone, as committed in shared/schema/export-v1.json', async () => {
    const res = await server.api('GET', '/api/schema/export-v1.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/schema\+json/);
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ $schema: 'https://json-schema.org/draft/2020-12/schema', $id: 'https://bridgelog.dev/schema/export/v1' });
    await expect(`${text}\n`).toMatchFileSnapshot('../../shared/schema/export-v1.json');
    // Open to fields added within v1; the exhaustive form is not.
    const added = { ...((await (await exportAs('json')).json()) as Report), addedInV1_1: true };
    expect(published(added)).toBe(true);
    expect(exhaustive(added)).toBe(false);
  });

  it('the schema rejects a broken export, naming where', async () => {
    const good = (await (await exportAs('json')).json()) as Report;
    expect(published(good)).toBe(true);
    const broken: Array<[string, (r: Report) => void]> = [
      ['/entries/1', (r) => delete (r.entries[1] as Partial<Report['entries'][number]>).loggedAt],
      ['/incident/severity', (r) => ((r.incident as { severity: string }).severity = 'sev9')],
      ['/entries/1/attachments/0/sha256', (r) => (r.entries[1]!.attachments[0]!.sha256 = 'not-a-hash')],
      ['/generatedAt', (r) => (r.generatedAt = 'yesterday')],
      ['/$schema', (r) => ((r as { $schema: string }).$schema = 'https://bridgelog.dev/schema/export/v2')],
      ['/responders/0/entries', (r) => (r.responders[0]!.entries = -1)],
    ];
    for (const [where, breakIt] of broken) {
      const r = structuredClone(good);
      breakIt(r);
      expect(published(r), where).toBe(false);
      expect(published.errors!.map((e) => e.instancePath), where).toContain(where);
    }
  });

  it('a mistyped document (logged before updates were checked against the schema) still exports valid JSON', async () => {
    const other = (await server.createIncident(alice.token, { title: 'mistyped' })).id;
    // The socket refuses these now (test/collab/update-schema.test.ts): written as the server would.
    const room = await server.rooms.open(other);
    await room.applyServerChange(alice.id, (doc) => {
      const id = createEntry(doc, { kind: 'note', title: 'fine so far', ranAt: '2026-03-04T07:00:00.000Z' });
      metaOf(doc).set('severity', 'sev9');
      metaOf(doc).set('title', 42);
      const entry = entriesOf(doc).get(id)!;
      entry.set('ranAt', 1_772_607_600_000);
      (entry.get('links') as Y.Array<unknown>).push(['https://example.com', { url: 'https://grafana/d/1', label: 'graph' }, { url: 5 }]);
      (entry.get('attachments') as Y.Array<unknown>).push([42]);
      (entry.get('hypotheses') as Y.Map<unknown>).set('h1', 'maybe');
    });
    const r = (await (await server.api('GET', `/api/incidents/${other}/export?format=json`, { token: bob.token })).json()) as Report;
    expectValid(r);
    expect(r.incident).toMatchObject({ title: 'mistyped', severity: 'sev3' });
    expect(r.entries[0]).toMatchObject({ title: 'fine so far', links: [{ url: 'https://grafana/d/1', label: 'graph' }], hypotheses: {} });
  });
});
