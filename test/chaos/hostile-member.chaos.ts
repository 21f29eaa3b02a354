/**
 * One signed-in member tries to stall or spoil everyone's logging (test/helpers/hostile-actions.ts):
 * backtracking label matchers with long alert names, updates of 40,000 nested maps followed by the
 * history walks a viewer may ask for, updates under the honest users' client IDs, and a presence
 * flood. Meanwhile honest responders keep typing: their save latency p99 stays within 2× of its
 * unloaded value, nothing of the attacker's lands in their incident, and their saves never fail.
 *
 * As in fuzz.chaos.ts, loaded and unloaded latencies come from alternating windows of one run
 * (test/helpers/load-windows.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import { listEntries } from '../../shared/schema/doc.js';
import { ADMIN_TOKEN, tempDataDir } from '../helpers/server.js';
import { connect, synced, type CollabClient } from '../helpers/collab-client.js';
import { freePort, startChildServer, type ChildServer } from '../helpers/child-server.js';
import type { Plan } from '../helpers/hostile-actions.js';
import { quantile, saveLatenciesInWindows } from '../helpers/load-windows.js';

const HONEST = 3;
const WINDOWS = 16;
const WINDOW_MS = 2_000;
const SETTLE_MS = 200;
let child: ChildServer | undefined;
let hostile: ChildProcess | undefined;
const clients: CollabClient[] = [];
afterAll(() => {
  for (const c of clients) c.destroy();
  hostile?.kill('SIGKILL');
  child?.process.kill('SIGKILL');
});

async function api<T = { id: string; token: string }>(method: string, urlPath: string, token: string, body?: unknown): Promise<T> {
  const res = await fetch(child!.url + urlPath, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${method} ${urlPath}: ${res.status}`);
  return (await res.json()) as T;
}


describe('a hostile member', () => {
  it('cannot stall or spoil the honest responders’ logging', async () => {
    child = await startChildServer({ PORT: String(await freePort()), DATA_DIR: tempDataDir(), BRIDGELOG_BOOTSTRAP_TOKEN: ADMIN_TOKEN, LOG_LEVEL: 'warn' });
    const wsUrl = child.url.replace(/^http/, 'ws');
    const honest = await Promise.all(Array.from({ length: HONEST }, (_, i) => api('POST', '/api/users', ADMIN_TOKEN, { name: `honest${i}`, role: 'responder' })));
    const attacker = await api('POST', '/api/users', ADMIN_TOKEN, { name: 'mallory', role: 'responder' });
    const hook = await api<{ token: string }>('POST', '/api/integrations', ADMIN_TOKEN, { name: 'am', kind: 'alertmanager' });
    const work = await api('POST', '/api/incidents', honest[0]!.token, { title: 'real work', alertMatchers: ['site=ny'] });
    const sandbox = await api('POST', '/api/incidents', attacker.token, { title: 'sandbox' });
    for (const u of honest) {
      const c = connect(wsUrl, work.id, u.token);
      c.provider.awareness.setLocalStateField('user', { color: '#0af' }); // present, as the web app is
      clients.push(c);
    }
    await Promise.all(clients.map(synced));
    const ids = clients.map((c) => c.doc.clientID);

    // HOSTILE_ONLY=redos,presence runs only those loops (the checks of the others then fail).
    const only = process.env.HOSTILE_ONLY ? process.env.HOSTILE_ONLY.split(',') : undefined;
    const plan: Plan = { url: child.url, work: work.id, sandbox: sandbox.id, token: attacker.token, hookToken: hook.token, only };
    const proc = spawn('nice', ['-n', '19', process.execPath, '--import', 'tsx', path.resolve(import.meta.dirname, '../helpers/hostile-actions.ts')], {
      env: { ...process.env, HOSTILE: JSON.stringify(plan) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    hostile = proc;
    let report = '';
    proc.stdout!.on('data', (d: Buffer) => (report += d.toString()));
    const latencies = await saveLatenciesInWindows(proc, clients, { windowMs: WINDOW_MS, settleMs: SETTLE_MS, windows: WINDOWS });
    await new Promise((r) => (proc.exitCode !== null ? r(undefined) : proc.once('exit', r)));
    const counts = JSON.parse(report) as Record<string, number>;
    const measured = {
      unloadedP50: quantile(latencies.unloaded, 0.5), loadedP50: quantile(latencies.loaded, 0.5),
      unloadedP99: quantile(latencies.unloaded, 0.99), loadedP99: quantile(latencies.loaded, 0.99),
      unloadedN: latencies.unloaded.length, loadedN: latencies.loaded.length,
    };
    console.log(`hostile member chaos: ${JSON.stringify({ counts, ...measured })}`);

    // The attacker really did each thing, many times over.
    expect(counts['webhook 200'] ?? 0).toBeGreaterThan(10);
    expect(counts['nesting sent'] ?? 0).toBeGreaterThan(10);
    expect(counts['squat sent'] ?? 0).toBeGreaterThan(10);
    expect(counts['victims 3']).toBe(1);
    expect(counts['presence sent'] ?? 0).toBeGreaterThan(1000);
    expect(latencies.loaded.length).toBeGreaterThan(200);
    expect(latencies.unloaded.length).toBeGreaterThan(200);
    expect(measured.loadedP99).toBeLessThanOrEqual(2 * measured.unloadedP99);

    // Honest saves never failed, and nothing of the attacker's is in their incident or its history.
    for (const c of clients) expect(c.closes).toEqual([]);
    expect(clients.map((c) => c.doc.clientID)).toEqual(ids);
    const check = connect(wsUrl, work.id, honest[1]!.token);
    clients.push(check);
    await synced(check);
    await vi.waitFor(() => expect(Y.encodeStateVector(check.doc)).toEqual(Y.encodeStateVector(clients[0]!.doc)));
    expect(listEntries(check.doc).map((e) => e.title).sort()).toEqual(['honest 0', 'honest 1', 'honest 2']);
    const history = await api<Array<{ userName: string }>>('GET', `/api/incidents/${work.id}/history`, ADMIN_TOKEN);
    expect(history.filter((h) => h.userName === 'mallory')).toEqual([]);
    for (const c of clients.slice(0, HONEST)) {
      const seen = check.provider.awareness.getStates().get(c.doc.clientID) as { user?: { name: string } } | undefined;
      expect(seen?.user?.name).toMatch(/^honest/);
    }
    expect((await fetch(`${child.url}/healthz`)).status).toBe(200);
  });
});
