/**
 * Alert records on disk: each webhook appends what it changed, a restart reads back the latest state
 * of every alert, the file is rewritten once superseded lines pile up, a torn last line (a crash
 * mid-append) is cut, and a data directory from before the log still opens with its alerts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../shared/alerts.js';
import { ADMIN_TOKEN, startTestServer, tempDataDir, type TestServer } from '../helpers/server.js';
import { inPostgres } from '../helpers/stored.js';

async function integration(server: TestServer): Promise<string> {
  const res = await server.api('POST', '/api/integrations', { token: ADMIN_TOKEN, body: { name: `am-${Math.random()}`, kind: 'generic' } });
  return ((await res.json()) as { token: string }).token;
}
const fire = (server: TestServer, token: string, body: unknown) => server.api('POST', '/api/hooks/generic', { token, body });
const alerts = async (server: TestServer) => (await (await server.api('GET', '/api/alerts', { token: ADMIN_TOKEN })).json()) as Alert[];
const lines = (file: string) => fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).length;

describe.skipIf(inPostgres)('alert records on disk', () => {
  it('keeps the latest state of every alert across restarts, and rewrites the log when it is mostly superseded', async () => {
    const dataDir = tempDataDir();
    let server = await startTestServer({ dataDir });
    const token = await integration(server);
    for (let i = 0; i < 5; i++) expect((await fire(server, token, { title: `disk full on db0${i}`, fingerprint: `db${i}` })).status).toBe(200);
    // The same alert, changed 1,200 times (from 13 integrations: each may call 100 times in 10 s):
    // its lines pile up until the log is rewritten.
    const senders = await Promise.all(Array.from({ length: 13 }, () => integration(server)));
    for (let i = 0; i < 1200; i++) {
      const res = await fire(server, senders[i % 13]!, { title: 'flapping link', fingerprint: 'flap', labels: { n: String(i) }, ...(i % 2 ? { endsAt: new Date().toISOString() } : {}) });
      expect(res.status).toBe(200);
    }
    await server.close();
    const file = path.join(dataDir, 'alert-records.jsonl');
    expect(lines(file)).toBeLessThan(1200);

    server = await startTestServer({ dataDir });
    const after = await alerts(server);
    expect(after.map((a) => a.fingerprint).sort()).toEqual(['db0', 'db1', 'db2', 'db3', 'db4', 'flap']);
    expect(after.find((a) => a.fingerprint === 'flap')).toMatchObject({ labels: { n: '1199' }, status: 'resolved' });
    await server.close();
  });

  it('cuts a torn last line and keeps everything before it', async () => {
    const dataDir = tempDataDir();
    let server = await startTestServer({ dataDir });
    const token = await integration(server);
    await fire(server, token, { title: 'packet loss ny', fingerprint: 'ny' });
    await server.close();
    const file = path.join(dataDir, 'alert-records.jsonl');
    fs.appendFileSync(file, '{"id":"torn","fingerp');
    server = await startTestServer({ dataDir });
    expect((await alerts(server)).map((a) => a.title)).toEqual(['packet loss ny']);
    expect(fs.readFileSync(file, 'utf8').endsWith('\n')).toBe(true);
    await server.close();
  });

  it('opens a data directory whose alerts are still in alerts.json, and moves them to the log', async () => {
    const dataDir = tempDataDir();
    let server = await startTestServer({ dataDir });
    const token = await integration(server);
    await fire(server, token, { title: 'old alert', fingerprint: 'old' });
    await server.close();
    // As an older version stored them: inside alerts.json, beside the integrations.
    const file = path.join(dataDir, 'alerts.json');
    const log = path.join(dataDir, 'alert-records.jsonl');
    const old = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    old.alerts = fs.readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    fs.writeFileSync(file, JSON.stringify(old));
    fs.rmSync(log);

    server = await startTestServer({ dataDir });
    expect((await alerts(server)).map((a) => a.title)).toEqual(['old alert']);
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).not.toHaveProperty('alerts');
    expect(lines(log)).toBe(1);
    expect((await fire(server, token, { title: 'new alert', fingerprint: 'new' })).status).toBe(200);
    await server.close();
  });
});
