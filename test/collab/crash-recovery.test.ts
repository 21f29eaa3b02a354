/**
 * "Saved" means on disk: kill the server with SIGKILL in the middle of a burst from several writers,
 * restart it, and every update it had acknowledged (message type 100) is still there. Then the
 * writers reconnect on their own, resend what was not acknowledged, and everyone converges.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import { createEntry, listEntries } from '../../shared/schema/doc.js';
import { ADMIN_TOKEN, tempDataDir } from '../helpers/server.js';
import { connect, synced, type CollabClient } from '../helpers/collab-client.js';
import { freePort, startChildServer, type ChildServer } from '../helpers/child-server.js';

const WRITERS = 4;
const CYCLES = 3;
let child: ChildServer | undefined;
const clients: CollabClient[] = [];

afterAll(async () => {
  for (const c of clients) c.destroy();
  child?.process.kill('SIGKILL');
});

async function api(url: string, method: string, urlPath: string, token: string, body?: unknown): Promise<{ id: string; token: string }> {
  const res = await fetch(url + urlPath, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${urlPath}: ${res.status} ${await res.text()}`);
  return (await res.json()) as { id: string; token: string };
}

describe('crash recovery', () => {
  it(`keeps every acknowledged update through ${CYCLES} SIGKILLs mid-burst from ${WRITERS} writers`, async () => {
    const dataDir = tempDataDir();
    const port = String(await freePort());
    const env = { PORT: port, DATA_DIR: dataDir, BRIDGELOG_BOOTSTRAP_TOKEN: ADMIN_TOKEN };
    child = await startChildServer(env);
    const wsUrl = child.url.replace(/^http/, 'ws');

    // A second server on the same DATA_DIR is refused while the first runs.
    await expect(startChildServer(env)).rejects.toThrow(/in use by another Bridgelog server/);

    const users = await Promise.all(
      Array.from({ length: WRITERS }, (_, i) => api(child!.url, 'POST', '/api/users', ADMIN_TOKEN, { name: `writer${i}`, role: 'responder' })),
    );
    const incident = await api(child.url, 'POST', '/api/incidents', users[0]!.token, { title: 'Crash drill' });
    for (const u of users) clients.push(connect(wsUrl, incident.id, u.token));
    await Promise.all(clients.map(synced));

    let acknowledged = 0;
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      // Each writer logs entries as fast as it can; we remember the clock each entry ended at.
      const written = clients.map(() => [] as Array<{ title: string; clock: number }>);
      let writing = true;
      const loops = clients.map(async (c, w) => {
        for (let n = 0; writing; n++) {
          const title = `cycle ${cycle} writer ${w} entry ${n}`;
          createEntry(c.doc, { kind: 'test', title, ranAt: new Date().toISOString(), observations: 'x'.repeat(200) });
          written[w]!.push({ title, clock: Y.getState(c.doc.store, c.doc.clientID) });
          await new Promise((r) => setTimeout(r, 1 + Math.random() * 4));
        }
      });
      await new Promise((r) => setTimeout(r, 200 + Math.random() * 400));
      child.process.kill('SIGKILL');
      expect(await child.exited).toBe('SIGKILL');
      writing = false;
      await Promise.all(loops);

      // What each writer had been told was durable, at the moment of the crash.
      const acked = clients.flatMap((c, w) => {
        const durable = c.durable.get(c.doc.clientID) ?? 0;
        return written[w]!.filter((e) => e.clock <= durable).map((e) => e.title);
      });
      expect(acked.length).toBeGreaterThan(0);
      acknowledged += acked.length;

      child = await startChildServer(env);
      const reader = connect(wsUrl, incident.id, ADMIN_TOKEN);
      clients.push(reader);
      await synced(reader);
      const present = new Set(listEntries(reader.doc).map((e) => e.title));
      expect(acked.filter((t) => !present.has(t))).toEqual([]);

      // The writers reconnect by themselves and resend what was not acknowledged: all converge.
      await vi.waitFor(() => {
        const vectors = clients.map((c) => Buffer.from(Y.encodeStateVector(c.doc)).toString('hex'));
        expect(new Set(vectors).size).toBe(1);
      }, { timeout: 20_000, interval: 50 });
      await Promise.all(clients.map((c) => c.saved()));
      const all = written.flat().map((e) => e.title);
      expect(new Set(listEntries(reader.doc).map((e) => e.title))).toEqual(new Set([...present, ...all]));
      reader.destroy();
      clients.pop();
    }
    expect(acknowledged).toBeGreaterThan(CYCLES * WRITERS);
    expect(fs.readdirSync(path.join(dataDir, 'incidents', incident.id))).toContain('updates.log');
  });
});
