/**
 * Evidence uploads as a responder's browser or script sends them — and as an attacker would: spoofed
 * types, hostile names, SVG with script, polyglots, oversize bodies, broken multipart, aborted uploads.
 * Files are kept by content, served safely, and nothing partial is ever left behind.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { io } from 'socket.io-client';
import * as Y from 'yjs';
import { createEntry, entriesOf } from '../../shared/schema/doc.js';
import { ServerEvent, type CaptureAnalysisEvent } from '../../shared/events.js';
import { safeFileName } from '../../server/attachments/sniff.js';
import { analyzeCapture } from '../../server/capture/capture-analysis.js';
import { ADMIN_TOKEN, startTestServer, type TestServer } from '../helpers/server.js';
import { inPostgres, storedBlobCount, unfinishedUploads } from '../helpers/stored.js';
import { burstyTraffic, writePcap } from '../helpers/capture-writer.js';
import { connect, synced } from '../helpers/collab-client.js';

const MiB = 1024 * 1024;
let server: TestServer;
/** Small limits, so the limit tests send little. */
const LIMITS = { uploadLimits: { image: 1 * MiB, capture: 20 * MiB, text: 2 * MiB, other: 2 * MiB } };
let token: string;
let incidentId: string;

beforeAll(async () => {
  server = await startTestServer({ config: LIMITS });
  token = (await server.createUser('responder', 'uploader')).token;
  incidentId = (await server.createIncident(token)).id;
});
afterAll(async () => {
  await server.close();
});

/** A 1×1 PNG (real, decodable). */
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360f8cfc0f01f0005000201a5f6c8e20000000049454e44ae426082', 'hex');

function upload(file: Buffer | string, name: string, opts: { type?: string; field?: string; token?: string; incident?: string } = {}) {
  const form = new FormData();
  form.append(opts.field ?? 'file', new Blob([typeof file === 'string' ? file : new Uint8Array(file)], { type: opts.type ?? 'application/octet-stream' }), name);
  return fetch(`${server.url}/api/incidents/${opts.incident ?? incidentId}/attachments`, { method: 'POST', headers: { authorization: `Bearer ${opts.token ?? token}` }, body: form });
}

const blobCount = () => storedBlobCount(server);
const unfinished = () => unfinishedUploads(server);
const download = (id: string, t = token) => fetch(`${server.url}/api/attachments/${id}`, { headers: { authorization: `Bearer ${t}` } });

describe('uploading evidence', () => {
  it('stores a screenshot by content and serves it inline, safely', async () => {
    const res = await upload(PNG, 'screenshot 06:12Z.png', { type: 'image/png' });
    expect(res.status).toBe(201);
    const a = (await res.json()) as { id: string; name: string; size: number; sha256: string; kind: string };
    expect(a).toMatchObject({ name: 'screenshot 06:12Z.png', size: PNG.length, kind: 'image', sha256: createHash('sha256').update(PNG).digest('hex') });
    const got = await download(a.id);
    expect(got.headers.get('content-type')).toBe('image/png');
    expect(got.headers.get('content-disposition')).toMatch(/^inline; filename="screenshot 06:12Z.png"/);
    expect(got.headers.get('x-content-type-options')).toBe('nosniff');
    expect(got.headers.get('content-security-policy')).toContain('sandbox');
    expect(Buffer.from(await got.arrayBuffer())).toEqual(PNG);

    // The same file again is the same blob, stored once.
    const before = await blobCount();
    const again = (await (await upload(PNG, 'again.png')).json()) as { sha256: string; id: string };
    expect(again.sha256).toBe(a.sha256);
    expect(again.id).not.toBe(a.id);
    expect(await blobCount()).toBe(before);
  });

  it('serves byte ranges (a resumed or seeking download), and answers a revalidation with 304', async () => {
    const bytes = Buffer.from(Array.from({ length: 5000 }, (_, i) => `line ${i}\n`).join(''));
    const a = (await (await upload(bytes, 'router.log')).json()) as { id: string; sha256: string };
    const get = (headers: Record<string, string>, method = 'GET') =>
      fetch(`${server.url}/api/attachments/${a.id}`, { method, headers: { authorization: `Bearer ${token}`, ...headers } });

    const whole = await get({});
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    expect(whole.headers.get('etag')).toBe(`"${a.sha256}"`);
    expect(Buffer.from(await whole.arrayBuffer()).equals(bytes)).toBe(true);

    const part = await get({ range: 'bytes=100-199' });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 100-199/${bytes.length}`);
    expect(part.headers.get('content-disposition')).toMatch(/^attachment;/);
    expect(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(100, 200))).toBe(true);
    const tail = await get({ range: 'bytes=-10' });
    expect(Buffer.from(await tail.arrayBuffer()).equals(bytes.subarray(-10))).toBe(true);

    const past = await get({ range: `bytes=${bytes.length}-` });
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe(`bytes */${bytes.length}`);
    await past.arrayBuffer();
    const several = await get({ range: 'bytes=0-1,10-11' });
    expect(several.status).toBe(200);
    expect((await several.arrayBuffer()).byteLength).toBe(bytes.length);

    const head = await get({}, 'HEAD');
    expect(head.headers.get('content-length')).toBe(String(bytes.length));
    // By http, not fetch: fetch adds Cache-Control: no-cache to a conditional request.
    const revalidated = await new Promise<number | undefined>((resolve, reject) =>
      http.get(`${server.url}/api/attachments/${a.id}`, { headers: { authorization: `Bearer ${token}`, 'if-none-match': `"${a.sha256}"` } }, (res) => {
        res.resume();
        resolve(res.statusCode);
      }).on('error', reject),
    );
    expect(revalidated).toBe(304);
  });

  it('decides the kind from the content, not the name or the claimed type', async () => {
    const spoofed = (await (await upload('just some text, not an image', 'evil.png', { type: 'image/png' })).json()) as { id: string; kind: string };
    expect(spoofed.kind).toBe('text');
    const got = await download(spoofed.id);
    expect(got.headers.get('content-type')).toBe('application/octet-stream');
    expect(got.headers.get('content-disposition')).toMatch(/^attachment;/);
  });

  it('never serves SVG inline, script or not', async () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>';
    const a = (await (await upload(svg, 'graph.svg', { type: 'image/svg+xml' })).json()) as { id: string; kind: string };
    expect(a.kind).toBe('text');
    const got = await download(a.id);
    expect(got.headers.get('content-type')).toBe('application/octet-stream');
    expect(got.headers.get('content-disposition')).toMatch(/^attachment;/);
  });

  it('serves a GIF/HTML polyglot only as an image, with nosniff and a sandbox', async () => {
    const polyglot = Buffer.concat([Buffer.from('GIF89a/*'), Buffer.alloc(10), Buffer.from('*/=1;<html><script>alert(document.cookie)</script></html>')]);
    const a = (await (await upload(polyglot, 'poly.gif.html', { type: 'text/html' })).json()) as { id: string; kind: string };
    expect(a.kind).toBe('image');
    const got = await download(a.id);
    expect(got.headers.get('content-type')).toBe('image/gif');
    expect(got.headers.get('x-content-type-options')).toBe('nosniff');
    expect(got.headers.get('content-security-policy')).toBe("default-src 'none'; sandbox");
  });

  it('cleans hostile file names', async () => {
    const cases: Array<[string, string]> = [
      ['../../etc/passwd', 'passwd'],
      ['..\\..\\windows\\system.ini', 'system.ini'],
      ['...', 'file'],
      [`${'ü'.repeat(300)}.txt`, 'ü'.repeat(200)],
    ];
    for (const [name, expected] of cases) {
      const a = (await (await upload('x', name)).json()) as { name: string };
      expect(a.name).toBe(expected);
    }
    // Control characters break the multipart header itself: refused as malformed by the parser...
    for (const name of ['bad\u0000name.txt', 'bad\u001bname\u0007.txt']) expect((await upload('x', name)).status).toBe(400);
    // ...and were they to get through, the name would be cleaned.
    expect(safeFileName('bad\u001bname\u0007\u0085.txt')).toBe('badname.txt');
    // Unicode survives the download header intact.
    const u = (await (await upload('x', 'Mitschnitt – Störung.txt')).json()) as { id: string };
    expect((await download(u.id)).headers.get('content-disposition')).toContain("filename*=UTF-8''Mitschnitt%20%E2%80%93%20St%C3%B6rung.txt");
  });

  it('drops bidi controls from names, so "evil\u202Egnp.exe" shows as what it is', async () => {
    const cases: Array<[string, string]> = [
      ['evil\u202Egnp.exe', 'evilgnp.exe'],
      ['\u202Bfake\u202C\u2066.txt\u2069.exe', 'fake.txt.exe'],
      ['a\u200Eb\u200Fc\u061Cd\u202A\u202D.log', 'abcd.log'],
      ['line\u2028break\u2029.txt', 'linebreak.txt'],
      // Letters of right-to-left scripts and joiners are kept.
      ['\u05e7\u05d5\u05d1\u05e5 \u0645\u0644\u0641 \ud83d\udc69\u200d\ud83d\udcbb.txt', '\u05e7\u05d5\u05d1\u05e5 \u0645\u0644\u0641 \ud83d\udc69\u200d\ud83d\udcbb.txt'],
    ];
    for (const [name, expected] of cases) {
      const a = (await (await upload('x', name)).json()) as { id: string; name: string };
      expect(a.name).toBe(expected);
      expect(decodeURIComponent(/filename\*=UTF-8''(.*)$/.exec((await download(a.id)).headers.get('content-disposition')!)![1]!)).toBe(expected);
    }
  });

  it.skipIf(inPostgres)('serves a name stored before the cleaning (listing, download, export) without its bidi controls', async () => {
    const a = (await (await upload('evidence', 'harmless.txt')).json()) as { id: string };
    const client = connect(server.wsUrl, incidentId, token);
    await synced(client);
    const entry = createEntry(client.doc, { kind: 'note', title: 'with a file', ranAt: new Date().toISOString() });
    (entriesOf(client.doc).get(entry)!.get('attachments') as Y.Array<string>).push([a.id]);
    await client.saved();
    client.destroy();
    // As an older server would have stored it.
    const dataDir = server.dataDir;
    await server.close();
    const file = path.join(dataDir, 'attachments.json');
    const stored = JSON.parse(fs.readFileSync(file, 'utf8')) as { attachments: Array<{ id: string; name: string }> };
    stored.attachments.find((x) => x.id === a.id)!.name = 'evil\u202Egnp.exe';
    fs.writeFileSync(file, JSON.stringify(stored));
    server = await startTestServer({ dataDir, config: LIMITS });

    const listed = (await (await fetch(`${server.url}/api/incidents/${incidentId}/attachments`, { headers: { authorization: `Bearer ${token}` } })).json()) as Array<{ id: string; name: string }>;
    expect(listed.find((x) => x.id === a.id)!.name).toBe('evilgnp.exe');
    expect((await download(a.id)).headers.get('content-disposition')).toBe(`attachment; filename="evilgnp.exe"; filename*=UTF-8''evilgnp.exe`);
    for (const format of ['json', 'md']) {
      const report = await (await fetch(`${server.url}/api/incidents/${incidentId}/export?format=${format}`, { headers: { authorization: `Bearer ${token}` } })).text();
      expect(report).toContain('evilgnp.exe');
      expect(report).not.toMatch(/\u202E|\\u202e/i);
    }
  });
});

describe('refused uploads leave nothing behind', () => {
  it('refuses an empty file', async () => {
    const before = await blobCount();
    const res = await upload(Buffer.alloc(0), 'empty.pcap');
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/empty/);
    expect(await blobCount()).toBe(before);
    // (The earlier tests' second copies of a stored file are removed just after their answers.)
    await vi.waitFor(async () => expect(await unfinished()).toBe(0));
  });

  it('answers 413 for an oversized image before the whole body is read', async () => {
    const before = await blobCount();
    const big = Buffer.concat([PNG.subarray(0, 16), Buffer.alloc(8 * MiB)]);
    const boundary = 'xBOUNDARYx';
    const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\nContent-Type: image/png\r\n\r\n`);
    // The server answers and closes at once; on a busy machine the client's next write can meet the
    // closed socket before it has read the answer (EPIPE/ECONNRESET, the answer lost with the RST).
    // Such an attempt says nothing either way: it is made again, at most three times.
    const attempt = () => new Promise<{ status: number; sent: number }>((resolve) => {
      const req = http.request(`${server.url}/api/incidents/${incidentId}/attachments`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': head.length + big.length + 100 },
      });
      let sent = 0;
      req.on('response', (res) => {
        resolve({ status: res.statusCode ?? 0, sent });
        req.destroy();
      });
      req.on('error', () => resolve({ status: -1, sent }));
      req.write(head);
      // Send slowly, in 256 KiB pieces, and stop as soon as the server answers.
      const pump = () => {
        if (sent >= big.length || req.destroyed) return;
        req.write(big.subarray(sent, sent + 256 * 1024), () => setTimeout(pump, 5));
        sent += 256 * 1024;
      };
      pump();
    });
    let result = await attempt();
    for (let i = 0; i < 2 && result.status === -1; i++) result = await attempt();
    expect(result.status).toBe(413);
    expect(result.sent).toBeLessThan(big.length);
    expect(await blobCount()).toBe(before);
    await vi.waitFor(async () => expect(await unfinished()).toBe(0));
  });

  it('answers 413 at once when the declared length is over every limit', async () => {
    const res = await new Promise<number>((resolve) => {
      const req = http.request(`${server.url}/api/incidents/${incidentId}/attachments`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'multipart/form-data; boundary=b', 'content-length': 10 * 1024 * MiB },
      });
      req.on('response', (r) => (resolve(r.statusCode ?? 0), req.destroy()));
      req.on('error', () => undefined);
      req.write('--b\r\n');
    });
    expect(res).toBe(413);
  });

  it.each([
    ['a file under another field name', () => upload('x', 'a.txt', { field: 'upload' })],
    ['a file under an empty field name', () => upload('x', 'a.txt', { field: '' })],
    ['a deeply nested field name', () => upload('x', 'a.txt', { field: `file${'[a]'.repeat(200)}` })],
    ['no file at all', () => fetch(`${server.url}/api/incidents/${incidentId}/attachments`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: (() => { const f = new FormData(); f.append('note', 'hi'); return f; })() })],
    ['a body that is not multipart', () => fetch(`${server.url}/api/incidents/${incidentId}/attachments`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' })],
    ['a multipart body cut in the middle', () => fetch(`${server.url}/api/incidents/${incidentId}/attachments`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'multipart/form-data; boundary=zz' }, body: '--zz\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nhalf a fi' })],
  ])('refuses %s with a clear error', async (_name, send) => {
    const before = await blobCount();
    const res = await send();
    expect([400, 413, 415]).toContain(res.status);
    expect(((await res.json()) as { error: string }).error.length).toBeGreaterThan(5);
    expect(await blobCount()).toBe(before);
    await vi.waitFor(async () => expect(await unfinished()).toBe(0));
    expect((await server.api('GET', '/healthz')).status).toBe(200);
  });

  it('leaks no file and no descriptor after 100 clients abort mid-upload', async () => {
    const fds = () => fs.readdirSync('/proc/self/fd').length;
    const baseline = fds();
    for (let i = 0; i < 100; i++) {
      await new Promise<void>((resolve) => {
        const req = http.request(`${server.url}/api/incidents/${incidentId}/attachments`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'multipart/form-data; boundary=ab', 'content-length': 5 * MiB },
        });
        req.on('error', () => resolve());
        req.write(`--ab\r\nContent-Disposition: form-data; name="file"; filename="cap${i}.pcap"\r\n\r\n`);
        req.write(writePcap(burstyTraffic(1_772_604_750_000_000_000n, 50), { nanos: true, little: true }), () => setTimeout(() => (req.destroy(), resolve()), 2));
      });
    }
    await vi.waitFor(async () => expect(await unfinished()).toBe(0), { timeout: 10_000 });
    await vi.waitFor(() => expect(fds()).toBeLessThanOrEqual(baseline + 5), { timeout: 10_000 });
    expect((await server.api('GET', '/healthz')).status).toBe(200);
  });
});

describe('who may upload and download', () => {
  it('lets viewers download but not upload, and hides restricted incidents’ files', async () => {
    const viewer = (await server.createUser('viewer')).token;
    expect((await upload(PNG, 'v.png', { token: viewer })).status).toBe(403);
    const a = (await (await upload(PNG, 'team.png')).json()) as { id: string };
    expect((await download(a.id, viewer)).status).toBe(200);
    const secret = await server.createIncident(token, { title: 'secret', members: [] });
    const s = (await (await upload(PNG, 'secret.png', { incident: secret.id })).json()) as { id: string };
    expect((await download(s.id, viewer)).status).toBe(404);
    expect((await download(s.id, ADMIN_TOKEN)).status).toBe(404);
    expect((await upload(PNG, 'x.png', { token: viewer, incident: secret.id })).status).toBe(404);
  });
});

describe('captures', () => {
  it('analyzes an uploaded capture in the background, with live progress, and reports it per docs/api.md', async () => {
    const socket = io(server.url, { auth: { token }, transports: ['websocket'] });
    const events: CaptureAnalysisEvent[] = [];
    socket.on(ServerEvent.captureAnalysis, (e: CaptureAnalysisEvent) => events.push(e));
    await vi.waitFor(() => expect(socket.connected).toBe(true));

    const capture = zlib.gzipSync(writePcap(burstyTraffic(1_772_604_750_123_456_789n, 2000), { nanos: true, little: true }));
    const a = (await (await upload(capture, 'ny-sw01.pcap.gz', { type: 'application/gzip' })).json()) as { id: string; kind: string };
    expect(a.kind).toBe('capture');
    const analysis = async (q = '') => (await (await fetch(`${server.url}/api/attachments/${a.id}/analysis${q}`, { headers: { authorization: `Bearer ${token}` } })).json()) as Record<string, unknown>;
    await vi.waitFor(async () => expect((await analysis()).status).toBe('done'), { timeout: 20_000, interval: 100 });
    const done = await analysis();
    expect(done).toMatchObject({
      packets: 2000,
      firstPacketAt: '2026-03-04T06:12:30.123Z',
      linkTypes: [{ linkType: 1, name: 'Ethernet' }],
      ioGraph: { bucketMs: 1 },
      bursts: { capacityBytesPerMs: 125_000 },
      warnings: [],
    });
    expect((done.ioGraph as { peakBytes: number }).peakBytes).toBeGreaterThan(125_000);
    expect((done.bursts as { msOverCapacity: number }).msOverCapacity).toBeGreaterThan(0);
    // The 1 ms buckets and the coarser views, streamed from the stored series, are those of the capture.
    const file = path.join(server.dataDir, 'check.pcap.gz');
    fs.writeFileSync(file, capture);
    const expected = (await analyzeCapture(file)).series;
    const graph = done.ioGraph as { bytes: number[]; packets: number[]; buckets: number; views: Array<{ bucketMs: number; bytes: number[]; packets: number[] }> };
    expect(graph.bytes).toEqual(expected.view(1).bytes);
    expect(graph.packets).toEqual(expected.view(1).packets);
    expect(graph.buckets).toBe(graph.bytes.length);
    expect(graph.views.map((v) => v.bucketMs)).toEqual([10, 100, 1000]);
    const sums = (ms: number[], width: number) => ms.reduce<number[]>((out, x, i) => ((out[Math.floor(i / width)] = (out[Math.floor(i / width)] ?? 0) + x), out), []);
    for (const v of graph.views) expect({ bytes: v.bytes, packets: v.packets }).toEqual({ bytes: sums(graph.bytes, v.bucketMs), packets: sums(graph.packets, v.bucketMs) });
    expect(graph.views[2]!.packets.reduce((x, y) => x + y, 0)).toBe(2000);
    // The summary alone: the same counts and span, no buckets.
    const summary = await analysis('?summary=1');
    expect(summary).toMatchObject({ status: 'done', packets: 2000, firstPacketAt: done.firstPacketAt, lastPacketAt: done.lastPacketAt, ioGraph: { bucketMs: 1, buckets: graph.buckets } });
    expect(summary.ioGraph).not.toHaveProperty('bytes');
    expect((await fetch(`${server.url}/api/attachments/${a.id}/analysis?summary=yes`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(400);
    // The coarse views alone (what a long capture opens with), and the 1 ms buckets a piece at a time.
    const coarse = await analysis('?views=coarse');
    expect((coarse.ioGraph as typeof graph).views).toEqual(graph.views);
    expect(coarse.ioGraph).not.toHaveProperty('bytes');
    const ioPiece = async (q: string) => fetch(`${server.url}/api/attachments/${a.id}/io${q}`, { headers: { authorization: `Bearer ${token}` } });
    const piece = (await (await ioPiece('?fromMs=5&toMs=25')).json()) as { offsetMs: number; bytes: number[]; packets: number[] };
    expect(piece).toMatchObject({ offsetMs: 5, bytes: graph.bytes.slice(5, 25), packets: graph.packets.slice(5, 25) });
    const tail = (await (await ioPiece(`?fromMs=${graph.buckets - 3}&toMs=${graph.buckets + 100}`)).json()) as { bytes: number[] };
    expect(tail.bytes).toEqual(graph.bytes.slice(-3)); // cut at the capture's end
    for (const bad of ['', '?fromMs=-1&toMs=5', '?fromMs=5&toMs=5', '?fromMs=0&toMs=600001', '?fromMs=a&toMs=9']) expect((await ioPiece(bad)).status).toBe(400);
    expect((await fetch(`${server.url}/api/attachments/${a.id}/analysis?views=some`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(400);
    const at10g = await analysis('?capacityBps=10000000000');
    expect(at10g.bursts).toMatchObject({ capacityBytesPerMs: 1_250_000, msOverCapacity: 0 });
    expect((await fetch(`${server.url}/api/attachments/${a.id}/analysis?capacityBps=fast`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(400);
    await vi.waitFor(() => expect(events.filter((e) => e.attachmentId === a.id).map((e) => e.status)).toContain('done'));
    socket.close();
  });

  it('shows a large capture being analyzed, step by step, then done with the same totals', async () => {
    const socket = io(server.url, { auth: { token }, transports: ['websocket'] });
    const events: CaptureAnalysisEvent[] = [];
    socket.on(ServerEvent.captureAnalysis, (e: CaptureAnalysisEvent) => events.push(e));
    await vi.waitFor(() => expect(socket.connected).toBe(true));

    // About 18 MB: read in 4 MiB pieces, the analysis moves in several steps before it is done.
    const packets = 18_000;
    const capture = writePcap(burstyTraffic(1_772_604_800_000_000_000n, packets, 7), { nanos: true, little: true });
    const a = (await (await upload(capture, 'core-uplink.pcap')).json()) as { id: string; size: number };
    expect(a.size).toBe(capture.length);
    const mine = () => events.filter((e) => e.attachmentId === a.id);
    await vi.waitFor(() => expect(mine().map((e) => e.status)).toContain('done'), { timeout: 20_000, interval: 50 });
    socket.close();

    const seen = mine();
    expect(seen[0]!.status).toBe('pending');
    expect(seen.at(-1)!.status).toBe('done');
    const running = seen.filter((e) => e.status === 'running');
    expect(running.length).toBeGreaterThanOrEqual(3);
    // The bar only moves forward, over the whole file, and reaches its end just before "done".
    const read = running.map((e) => e.bytesRead!);
    expect(read).toEqual([...new Set(read)].sort((x, y) => x - y));
    expect(read[0]!).toBeLessThan(capture.length / 2);
    expect(read.at(-1)).toBe(capture.length);
    expect(running.every((e) => e.totalBytes === capture.length)).toBe(true);
    expect(seen.findLastIndex((e) => e.status === 'running')).toBe(seen.length - 2);

    const done = (await (await fetch(`${server.url}/api/attachments/${a.id}/analysis`, { headers: { authorization: `Bearer ${token}` } })).json()) as Record<string, unknown>;
    expect(done).toMatchObject({ status: 'done', packets, capturedBytes: capture.length - 24 - 16 * packets, warnings: [] });
  });

  it.skipIf(inPostgres)('keeps an analysis across a restart, and analyzes again one whose 1 ms graph file is gone', async () => {
    const capture = writePcap(burstyTraffic(1_772_604_900_000_000_000n, 500, 11), { nanos: true, little: true });
    const a = (await (await upload(capture, 'restart.pcap')).json()) as { id: string; sha256: string };
    const analysis = async () => (await (await fetch(`${server.url}/api/attachments/${a.id}/analysis?summary=1`, { headers: { authorization: `Bearer ${token}` } })).json()) as { status: string; packets?: number };
    await vi.waitFor(async () => expect((await analysis()).status).toBe('done'), { timeout: 20_000, interval: 100 });
    const restart = async () => {
      const dataDir = server.dataDir;
      await server.close();
      server = await startTestServer({ dataDir, config: LIMITS });
    };
    await restart();
    expect(await analysis()).toMatchObject({ status: 'done', packets: 500 });
    await restart();
    fs.rmSync(path.join(server.dataDir, 'analyses', `${a.sha256}.v2.io1ms`));
    expect((await analysis()).status).toMatch(/^(pending|running)$/);
    await vi.waitFor(async () => expect(await analysis()).toMatchObject({ status: 'done', packets: 500 }), { timeout: 20_000, interval: 100 });
    expect(fs.existsSync(path.join(server.dataDir, 'analyses', `${a.sha256}.v2.io1ms`))).toBe(true);
  });

  it('reports what it could read of a truncated capture, and refuses analysis of a non-capture', async () => {
    const whole = writePcap(burstyTraffic(1_772_604_750_000_000_000n, 300), { nanos: false, little: false });
    const a = (await (await upload(whole.subarray(0, whole.length - 700), 'cut.pcap')).json()) as { id: string };
    const get = async (id: string) => fetch(`${server.url}/api/attachments/${id}/analysis`, { headers: { authorization: `Bearer ${token}` } });
    await vi.waitFor(async () => expect(((await (await get(a.id)).json()) as { status: string }).status).toBe('done'), { timeout: 20_000, interval: 100 });
    const result = (await (await get(a.id)).json()) as { packets: number; warnings: string[] };
    expect(result.packets).toBeGreaterThan(290);
    expect(result.warnings.join(' ')).toMatch(/truncated/);
    const text = (await (await upload('not a capture', 'fake.pcap')).json()) as { id: string };
    expect((await get(text.id)).status).toBe(404);
  });
});
