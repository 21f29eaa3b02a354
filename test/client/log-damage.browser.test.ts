/** The incident page warns when part of the history on the server's disk is damaged, and shows the rest. */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { createEntry } from '../../shared/schema/doc.js';
import { readRecords } from '../../server/storage/embedded/update-log.js';
import { connect, synced } from '../helpers/collab-client.js';
import { clientDir, entry, launchChromium, loggedInPage, openIncident } from '../helpers/browser.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let browser: Browser;
let server: TestServer | undefined;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser.close();
  await server?.close();
});

it('shows a banner naming the damaged records, above the entries that are still there', async () => {
  server = await startTestServer({ config: { clientDir } });
  const { dataDir } = server;
  const kim = await server.createUser('responder', 'kim', 'a long passphrase');
  const { id } = await server.createIncident(kim.token);
  for (let i = 1; i <= 5; i++) {
    const client = connect(server.wsUrl, id, kim.token);
    await synced(client);
    createEntry(client.doc, { kind: 'test', title: `traceroute ${i}`, ranAt: new Date().toISOString() });
    await client.saved();
    client.destroy();
  }
  await server.close();
  const logFile = path.join(dataDir, 'incidents', id, 'updates.log');
  const records: Array<{ seq: number; offset: number }> = [];
  for await (const { record, offset } of readRecords(logFile)) records.push({ seq: record.seq, offset });
  const damaged = records[records.length - 3]!; // the entry "traceroute 3"
  const log = fs.readFileSync(logFile);
  log[damaged.offset + 30]! ^= 0x08;
  fs.writeFileSync(logFile, log);

  server = await startTestServer({ dataDir, config: { clientDir } });
  const page = await loggedInPage(browser, server, 'kim', 'a long passphrase');
  await openIncident(page, server, id);
  const banner = page.getByTestId('log-damage');
  await expect.poll(() => banner.textContent()).toContain(`record ${damaged.seq} could not be read`);
  await expect.poll(() => entry(page, 'traceroute 5').count()).toBe(1);
  fs.mkdirSync('test-results', { recursive: true });
  await page.screenshot({ path: 'test-results/log-damage-banner.png' });
});
