/**
 * Evidence on an entry, as a responder adds it: a screenshot pasted from the clipboard shows as a
 * thumbnail (full size on a click), a capture dropped on the entry uploads with a progress bar, is
 * analyzed, and shows its summary and IO graph — at 1 s the average looks calm, at 1 ms the bursts
 * reach over the 1 Gbit/s line. Links point to evidence elsewhere. Screenshots: /tmp/bridgelog-evidence*.png.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listEntries } from '../../shared/schema/doc.js';
import { burstyTraffic, ethernetFrame, writePcap } from '../helpers/capture-writer.js';
import { connect, synced } from '../helpers/collab-client.js';
import { entry, launchChromium, loggedInPage, logFromKeyboard, openIncident, startWebServer } from '../helpers/browser.js';
import type { TestServer } from '../helpers/server.js';

const password = 'evidence-on-call-2026';
const test = 'iperf3 from ny-app01 to ny-db01 over Gi1/0/12';
const PACKETS = 6000;
const packets = burstyTraffic(BigInt(Date.UTC(2026, 2, 4, 6, 12, 30)) * 1_000_000n, PACKETS);
const capture = writePcap(packets, { nanos: true, little: true });

/** Hands a file to the page as the browser would: in a paste's clipboard or a drop's data transfer. */
function handOver(page: Page, how: 'paste' | 'drop', file: { name: string; type: string; bytes: Buffer }) {
  return page.evaluate(
    ({ how, title, name, type, base64 }) => {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const transfer = new DataTransfer();
      transfer.items.add(new File([bytes], name, { type }));
      const target = [...document.querySelectorAll('article.entry')].find((a) => a.getAttribute('aria-label') === title)!;
      const init = { bubbles: true, cancelable: true };
      if (how === 'paste') target.dispatchEvent(new ClipboardEvent('paste', { ...init, clipboardData: transfer }));
      else {
        target.dispatchEvent(new DragEvent('dragover', { ...init, dataTransfer: transfer }));
        target.dispatchEvent(new DragEvent('drop', { ...init, dataTransfer: transfer }));
      }
    },
    { how, title: test, name: file.name, type: file.type, base64: file.bytes.toString('base64') },
  );
}

describe('evidence on an entry', () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  let incidentId: string;
  let token: string;

  beforeAll(async () => {
    server = await startWebServer();
    token = (await server.createUser('responder', 'alice', password)).token;
    incidentId = (await server.createIncident(token, { title: 'Drops on ny-sw01 Gi1/0/12' })).id;
    browser = await launchChromium();
    page = await loggedInPage(browser, server, 'alice', password, { viewport: { width: 1280, height: 1100 } });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('shows a pasted screenshot as a thumbnail, full size on a click', async () => {
    await openIncident(page, server, incidentId);
    await logFromKeyboard(page, { title: test, command: 'iperf3 -c ny-db01 -u -b 900M -t 3', observations: '**0.4 %** loss, average 310 Mbit/s' });
    await entry(page, test).waitFor();
    const screenshot = await page.screenshot({ clip: { x: 0, y: 0, width: 640, height: 360 } });
    await handOver(page, 'paste', { name: 'image.png', type: 'image/png', bytes: screenshot });

    const thumbnail = entry(page, test).getByRole('button', { name: 'image.png', exact: true });
    await thumbnail.waitFor();
    await expect.poll(() => thumbnail.locator('img').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(640);
    await thumbnail.click();
    const viewer = page.getByRole('dialog', { name: 'image.png' });
    await viewer.waitFor();
    await expect.poll(() => viewer.locator('img').evaluate((img: HTMLImageElement) => img.getBoundingClientRect().width)).toBeGreaterThan(600);
    await page.screenshot({ path: '/tmp/bridgelog-evidence-image.png' });
    await page.keyboard.press('Escape');
    await expect.poll(() => viewer.count()).toBe(0);
  });

  it('uploads a dropped capture with a progress bar, then shows its analysis and 1 ms IO graph', async () => {
    // A slow uplink, so the upload takes long enough to watch.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: capture.length / 3 });
    await handOver(page, 'drop', { name: 'ny-sw01-gi12.pcap', type: 'application/vnd.tcpdump.pcap', bytes: capture });

    const upload = entry(page, test).getByRole('list', { name: 'Uploads' }).getByRole('listitem', { name: 'ny-sw01-gi12.pcap' });
    await expect.poll(() => upload.locator('progress').evaluate((p: HTMLProgressElement) => p.value / p.max)).toBeGreaterThan(0.2);
    expect(await upload.textContent()).toMatch(/^ny-sw01-gi12\.pcap[\d.]+ MiB of 5\.\d MiB$/);
    await entry(page, test).scrollIntoViewIfNeeded();
    await page.screenshot({ path: '/tmp/bridgelog-evidence-uploading.png' });
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });

    const analysis = entry(page, test).getByRole('region', { name: 'Capture ny-sw01-gi12.pcap' });
    const fact = (name: string) => analysis.locator('.capture-facts div').filter({ has: page.getByText(name, { exact: true }) }).locator('dd');
    await expect.poll(() => fact('Packets').textContent(), { timeout: 20_000 }).toBe(PACKETS.toLocaleString('en'));
    const first = new Date(Number(packets[0]!.ns / 1_000_000n)).toISOString();
    expect(await fact('First packet').textContent()).toBe(`${first.replace('T', ' ').slice(0, 23)}Z`);
    expect(await fact('Peak 1 ms').textContent()).toMatch(/^[\d,]+ Mbit\/s of 1,000 Mbit\/s$/);
    expect(Number((await fact('Peak 1 ms').textContent())!.split(' ')[0]!.replace(/,/g, ''))).toBeGreaterThan(1000);
    expect(Number((await fact('Over capacity').textContent())!.split(' ')[0])).toBeGreaterThan(0);
    expect(await analysis.getByRole('table').locator('tbody tr').count()).toBeGreaterThan(0);

    // Opens at 1 ms, where the bursts show; 1 s shows what the average says.
    const bucket = (name: string) => analysis.getByRole('group', { name: 'IO graph bucket' }).getByRole('button', { name, exact: true });
    expect(await bucket('1 ms').getAttribute('aria-pressed')).toBe('true');
    await analysis.getByRole('img', { name: 'IO graph, 1 ms buckets' }).locator('canvas').waitFor();
    await analysis.scrollIntoViewIfNeeded();
    await page.screenshot({ path: '/tmp/bridgelog-evidence-capture-1ms.png' });
    await bucket('1 s').click();
    await analysis.getByRole('img', { name: 'IO graph, 1000 ms buckets' }).locator('canvas').waitFor();
    await page.screenshot({ path: '/tmp/bridgelog-evidence-capture-1s.png' });
    await bucket('1 ms').click();
  });

  it('opens a capture spanning ten minutes at 1 s, and shows at 1 ms the minute around its worst burst', async () => {
    // A packet every 100 ms for ten minutes, and at 421.3 s one millisecond with 120 full frames
    // (182 KB: 1.45 Gbit/s for that millisecond).
    const start = BigInt(Date.UTC(2026, 2, 4, 7, 0, 0)) * 1_000_000n;
    const calm = Array.from({ length: 6000 }, (_, i) => ({ ns: start + BigInt(i) * 100_000_000n, frame: ethernetFrame(200) }));
    const burst = Array.from({ length: 120 }, (_, i) => ({ ns: start + 421_300_000_000n + BigInt(i) * 5_000n, frame: ethernetFrame(1514) }));
    const long = writePcap([...calm, ...burst].sort((a, b) => (a.ns < b.ns ? -1 : 1)), { nanos: true, little: true });
    await handOver(page, 'drop', { name: 'ten-minutes.pcap', type: 'application/vnd.tcpdump.pcap', bytes: long });

    const analysis = entry(page, test).getByRole('region', { name: 'Capture ten-minutes.pcap' });
    const fact = (name: string) => analysis.locator('.capture-facts div').filter({ has: page.getByText(name, { exact: true }) }).locator('dd');
    await expect.poll(() => fact('Packets').textContent(), { timeout: 20_000 }).toBe('6,120');
    expect(await fact('Over capacity').textContent()).toBe('1 ms');
    const bucket = (name: string) => analysis.getByRole('group', { name: 'IO graph bucket' }).getByRole('button', { name, exact: true });
    expect(await bucket('1 s').getAttribute('aria-pressed')).toBe('true');
    await analysis.getByRole('img', { name: 'IO graph, 1000 ms buckets' }).locator('canvas').waitFor();

    await bucket('1 ms').click();
    await analysis.getByRole('img', { name: 'IO graph, 1 ms buckets' }).locator('canvas').waitFor();
    expect(await analysis.locator('.io-graph-window').textContent()).toBe('the minute around the worst millisecond: 391–451 s from the first packet');
    await analysis.scrollIntoViewIfNeeded();
    await page.screenshot({ path: '/tmp/bridgelog-evidence-capture-long-1ms.png' });

    // Dragging across the 1 s graph, from about 100 s to about 160 s, shows that stretch at 1 ms.
    await bucket('1 s').click();
    expect(await analysis.locator('.io-graph-window').textContent()).toBe('drag across the graph to see up to ten minutes of it at 1 ms');
    const plot = analysis.getByRole('img', { name: 'IO graph, 1000 ms buckets' }).locator('.u-over');
    await plot.waitFor();
    const box = (await plot.boundingBox())!;
    const at = (s: number) => box.x + (box.width * s) / 600;
    await page.mouse.move(at(100), box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(at(130), box.y + box.height / 2, { steps: 5 });
    await page.mouse.move(at(160), box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    await analysis.getByRole('img', { name: 'IO graph, 1 ms buckets' }).locator('canvas').waitFor();
    expect(await bucket('1 ms').getAttribute('aria-pressed')).toBe('true');
    const stretch = /^the stretch you chose: (\d+)–(\d+) s from the first packet$/.exec((await analysis.locator('.io-graph-window').textContent())!);
    expect(stretch).not.toBeNull();
    expect(Math.abs(Number(stretch![1]) - 100)).toBeLessThanOrEqual(3);
    expect(Math.abs(Number(stretch![2]) - 160)).toBeLessThanOrEqual(3);
    await page.screenshot({ path: '/tmp/bridgelog-evidence-capture-long-chosen.png' });
  });

  it('links to evidence elsewhere, refusing what is not a web link', async () => {
    await entry(page, test).getByRole('button', { name: 'Link…' }).click();
    const form = entry(page, test).getByRole('form', { name: 'Add a link' });
    await form.getByLabel('URL').fill('javascript:alert(1)');
    await form.getByRole('button', { name: 'Add link' }).click();
    await expect.poll(() => form.getByRole('alert').textContent()).toBe('Give a web address starting with https:// or http://');
    await form.getByLabel('URL').fill('https://grafana.internal/d/ny-sw01?viewPanel=7');
    await form.getByLabel('Label').fill('Gi1/0/12 discards, last 6 h');
    await form.getByRole('button', { name: 'Add link' }).click();
    const link = entry(page, test).getByRole('link', { name: 'Gi1/0/12 discards, last 6 h' });
    expect(await link.getAttribute('href')).toBe('https://grafana.internal/d/ny-sw01?viewPanel=7');

    // The entry references its files by id, and its link, in the shared document.
    const script = connect(server.wsUrl, incidentId, token);
    await synced(script);
    await expect.poll(() => listEntries(script.doc)[0]?.links).toEqual([{ url: 'https://grafana.internal/d/ny-sw01?viewPanel=7', label: 'Gi1/0/12 discards, last 6 h' }]);
    const attached = (await (await server.api('GET', `/api/incidents/${incidentId}/attachments`, { token })).json()) as Array<{ id: string; kind: string }>;
    expect(attached.map((a) => a.kind).sort()).toEqual(['capture', 'capture', 'image']);
    expect([...listEntries(script.doc)[0]!.attachments].sort()).toEqual(attached.map((a) => a.id).sort());
    script.destroy();
    await page.screenshot({ path: '/tmp/bridgelog-evidence.png', fullPage: true });
  });
});
