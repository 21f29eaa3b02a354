/**
 * Evidence honesty (#16), in Chromium with two responders: a capture that cannot be read says so in
 * a red notice — never a confident summary of zeros — and so does a damaged one above what could be
 * read; the link capacity the bursts are measured against is chosen per capture (a preset or any
 * other, remembered); the IO graph's legend shows the peak and the capacity without hovering.
 * Each test may take minutes under a loaded machine (several browsers at once), hence their 180 s limits.
 * Screenshots: /tmp/shots-admin/evidence-*.png.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { burstyTraffic, writePcap } from '../helpers/capture-writer.js';
import { entry, launchChromium, loggedInPage, logFromKeyboard, openIncident, startWebServer } from '../helpers/browser.js';
import type { TestServer } from '../helpers/server.js';
import { patient } from '../helpers/patient-browser.js';

const SHOTS = '/tmp/shots-admin';
const password = 'evidence-honesty-2026';
const test = 'tcpdump on ny-sw01 Gi1/0/12';
const packets = burstyTraffic(BigInt(Date.UTC(2026, 2, 4, 6, 12, 30)) * 1_000_000n, 3000);
const healthy = writePcap(packets, { nanos: true, little: true });
// A capture header, then a record claiming a frame of 4 GiB: nothing after the header can be read.
const corrupt = Buffer.concat([writePcap([], { nanos: true, little: true }), Buffer.from([1, 0, 0, 0, 0, 0, 0, 0, 0xf0, 0xff, 0xff, 0xff, 0xf0, 0xff, 0xff, 0xff]), Buffer.alloc(64, 0xab)]);
// A good capture cut in the middle of its last record.
const truncated = healthy.subarray(0, healthy.length - 37);

/** Drops a file on the entry, as a browser does. */
function drop(page: Page, file: { name: string; bytes: Buffer }) {
  return page.evaluate(
    ({ title, name, base64 }) => {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const transfer = new DataTransfer();
      transfer.items.add(new File([bytes], name, { type: 'application/vnd.tcpdump.pcap' }));
      const target = [...document.querySelectorAll('article.entry')].find((a) => a.getAttribute('aria-label') === title)!;
      const init = { bubbles: true, cancelable: true };
      target.dispatchEvent(new DragEvent('dragover', { ...init, dataTransfer: transfer }));
      target.dispatchEvent(new DragEvent('drop', { ...init, dataTransfer: transfer }));
    },
    { title: test, name: file.name, base64: file.bytes.toString('base64') },
  );
}

describe('evidence honesty', () => {
  let server: TestServer;
  let browser: Browser;
  let ida: Page; // dark
  let jon: Page; // light
  let incidentId: string;
  const capture = (page: Page, name: string) => entry(page, test).getByRole('region', { name: `Capture ${name}` });
  const fact = (page: Page, name: string, label: string) =>
    capture(page, name).locator('.capture-facts div').filter({ has: page.getByText(label, { exact: true }) }).locator('dd');

  beforeAll(async () => {
    server = await startWebServer();
    const { token } = await server.createUser('responder', 'ida', password);
    await server.createUser('responder', 'jon', password);
    incidentId = (await server.createIncident(token, { title: 'Microbursts at ny' })).id;
    browser = patient(await launchChromium());
    ida = await loggedInPage(browser, server, 'ida', password, { colorScheme: 'dark' });
    jon = await loggedInPage(browser, server, 'jon', password, { colorScheme: 'light' });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('says a capture that cannot be read, or is damaged, is so — to everyone, not as zeros', async () => {
    await openIncident(ida, server, incidentId);
    await openIncident(jon, server, incidentId);
    await logFromKeyboard(ida, { title: test });
    await entry(jon, test).waitFor();
    await drop(ida, { name: 'broken.pcap', bytes: corrupt });
    for (const page of [ida, jon]) {
      const notice = capture(page, 'broken.pcap').getByRole('alert');
      await expect.poll(() => notice.textContent(), { timeout: 20_000 }).toContain('No packets could be read from this capture.');
      expect(await notice.textContent()).toContain('corrupt');
      expect(await capture(page, 'broken.pcap').locator('.capture-facts').count()).toBe(0);
    }

    await drop(ida, { name: 'cut-short.pcap', bytes: truncated });
    for (const page of [ida, jon]) {
      const notice = capture(page, 'cut-short.pcap').getByRole('alert');
      await expect.poll(() => notice.textContent(), { timeout: 20_000 }).toContain('This capture is damaged');
      expect(await notice.textContent()).toContain('truncated');
      expect(await fact(page, 'cut-short.pcap', 'Packets').textContent()).toBe((packets.length - 1).toLocaleString('en'));
    }
    await capture(ida, 'broken.pcap').scrollIntoViewIfNeeded();
    await ida.screenshot({ path: `${SHOTS}/evidence-unreadable-dark.png` });
    await capture(jon, 'broken.pcap').scrollIntoViewIfNeeded();
    await jon.screenshot({ path: `${SHOTS}/evidence-unreadable-light.png` });
  }, 180_000);

  it('measures bursts against the capacity chosen for each capture, and the legend shows values', async () => {
    await drop(ida, { name: 'healthy.pcap', bytes: healthy });
    await expect.poll(() => fact(ida, 'healthy.pcap', 'Packets').textContent(), { timeout: 20_000 }).toBe(packets.length.toLocaleString('en'));
    expect(await fact(ida, 'healthy.pcap', 'Peak 1 ms').textContent()).toMatch(/of 1,000 Mbit\/s$/);
    const overAt1G = Number((await fact(ida, 'healthy.pcap', 'Over capacity').textContent())!.split(' ')[0]!.replace(/,/g, ''));
    expect(overAt1G).toBeGreaterThan(0);

    const picker = capture(ida, 'healthy.pcap').getByLabel('Link capacity');
    await picker.selectOption('10');
    await expect.poll(() => fact(ida, 'healthy.pcap', 'Peak 1 ms').textContent()).toMatch(/of 10,000 Mbit\/s$/);
    await expect.poll(() => fact(ida, 'healthy.pcap', 'Over capacity').textContent()).toBe('0 ms');

    // Any other capacity; a bad one is refused with a reason.
    await picker.selectOption('custom');
    const other = capture(ida, 'healthy.pcap').getByRole('form', { name: 'Other link capacity' });
    await other.getByLabel('Capacity in Gbit/s').fill('fast');
    await other.getByRole('button', { name: 'Set' }).click();
    await expect.poll(() => other.getByRole('alert').textContent()).toBe('a capacity in Gbit/s, e.g. 2.5');
    await other.getByLabel('Capacity in Gbit/s').fill('0.5');
    await other.getByRole('button', { name: 'Set' }).click();
    await expect.poll(() => fact(ida, 'healthy.pcap', 'Peak 1 ms').textContent()).toMatch(/of 500 Mbit\/s$/);
    const overAtHalf = Number((await fact(ida, 'healthy.pcap', 'Over capacity').textContent())!.split(' ')[0]!.replace(/,/g, ''));
    expect(overAtHalf).toBeGreaterThan(overAt1G);

    // The legend, untouched by the pointer: the peak and the capacity, not blanks.
    const legend = capture(ida, 'healthy.pcap').locator('.u-legend');
    await expect.poll(() => legend.textContent()).toMatch(/peak [\d.]+ Mbit\/s at [\d.]+ s/);
    expect(await legend.textContent()).toContain('500 Mbit/s');

    // Chosen per capture, kept in this browser: the other captures and a reload keep theirs.
    expect(await capture(ida, 'cut-short.pcap').getByLabel('Link capacity').inputValue()).toBe('1');
    await ida.reload();
    await expect.poll(() => fact(ida, 'healthy.pcap', 'Peak 1 ms').textContent(), { timeout: 20_000 }).toMatch(/of 500 Mbit\/s$/);
    await capture(ida, 'healthy.pcap').scrollIntoViewIfNeeded();
    await ida.screenshot({ path: `${SHOTS}/evidence-capacity-dark.png` });
    const phone = await loggedInPage(browser, server, 'jon', password, { viewport: { width: 390, height: 844 }, isMobile: true, colorScheme: 'light' });
    await openIncident(phone, server, incidentId);
    await expect.poll(() => fact(phone, 'healthy.pcap', 'Packets').textContent(), { timeout: 20_000 }).toBe(packets.length.toLocaleString('en'));
    await capture(phone, 'healthy.pcap').scrollIntoViewIfNeeded();
    await phone.screenshot({ path: `${SHOTS}/evidence-capacity-phone.png` });
    await phone.close();
  }, 180_000);
});
