/**
 * The crash drill: writers log entries as fast as they can, the server is killed with SIGKILL at a
 * random moment, restarted, and every entry it had acknowledged (message type 100) must be there.
 * Then the writers' own providers reconnect, resend what was not acknowledged, and all converge.
 */
import { expect, vi } from 'vitest';
import * as Y from 'yjs';
import { createEntry, listEntries } from '../../shared/schema/doc.js';
import { ADMIN_TOKEN, tempDataDir } from './server.js';
import { api } from './api.js';
import { connect, synced, type CollabClient } from './collab-client.js';
import { freePort, startChildServer, type ChildServer } from './child-server.js';

export interface DrillResult {
  cycles: number;
  acknowledgedChecked: number;
  lost: number;
  entries: number;
}


/** `random` decides when each kill comes (pass a seeded one to replay a failure). */
export async function crashDrill(opts: { writers: number; cycles: number; random?: () => number }): Promise<DrillResult> {
  const random = opts.random ?? Math.random;
  const env = { PORT: String(await freePort()), DATA_DIR: tempDataDir(), BRIDGELOG_BOOTSTRAP_TOKEN: ADMIN_TOKEN };
  let child: ChildServer = await startChildServer(env);
  const clients: CollabClient[] = [];
  const result: DrillResult = { cycles: 0, acknowledgedChecked: 0, lost: 0, entries: 0 };
  try {
    // A second server on the same DATA_DIR is refused while the first runs.
    await expect(startChildServer(env)).rejects.toThrow(/in use by another Bridgelog server/);
    const users = await Promise.all(
      Array.from({ length: opts.writers }, (_, i) => api(child.url, 'POST', '/api/users', ADMIN_TOKEN, { name: `writer${i}`, role: 'responder' })),
    );
    const incident = await api(child.url, 'POST', '/api/incidents', users[0]!.token, { title: 'Crash drill' });
    const wsUrl = child.url.replace(/^http/, 'ws');
    for (const u of users) clients.push(connect(wsUrl, incident.id, u.token));
    await Promise.all(clients.map(synced));

    for (let cycle = 0; cycle < opts.cycles; cycle++) {
      // Each writer logs entries back to back; remember the clock each entry ended at.
      const written = clients.map(() => [] as Array<{ title: string; clock: number }>);
      let writing = true;
      const loops = clients.map(async (c, w) => {
        for (let n = 0; writing; n++) {
          const title = `cycle ${cycle} writer ${w} entry ${n}`;
          createEntry(c.doc, { kind: 'test', title, ranAt: new Date().toISOString(), observations: 'x'.repeat(200) });
          written[w]!.push({ title, clock: Y.getState(c.doc.store, c.doc.clientID) });
          await new Promise((r) => setTimeout(r, 1 + random() * 4));
        }
      });
      await new Promise((r) => setTimeout(r, 100 + random() * 500));
      child.process.kill('SIGKILL');
      expect(await child.exited).toBe('SIGKILL');
      writing = false;
      await Promise.all(loops);

      // What each writer had been told was durable when the server died.
      const acked = clients.flatMap((c, w) => {
        const durable = c.durable.get(c.doc.clientID) ?? 0;
        return written[w]!.filter((e) => e.clock <= durable).map((e) => e.title);
      });

      child = await startChildServer(env);
      const reader = connect(wsUrl, incident.id, ADMIN_TOKEN);
      await synced(reader);
      const present = new Set(listEntries(reader.doc).map((e) => e.title));
      const lost = acked.filter((t) => !present.has(t));
      result.acknowledgedChecked += acked.length;
      result.lost += lost.length;
      expect(lost).toEqual([]);

      // The writers reconnect by themselves and resend what was not acknowledged: all converge.
      const everyone = [...clients, reader];
      await vi.waitFor(() => {
        const vectors = everyone.map((c) => Buffer.from(Y.encodeStateVector(c.doc)).toString('hex'));
        expect(new Set(vectors).size).toBe(1);
      }, { timeout: 30_000, interval: 50 });
      await Promise.all(clients.map((c) => c.saved()));
      const all = written.flat().map((e) => e.title);
      expect(new Set(listEntries(reader.doc).map((e) => e.title))).toEqual(new Set([...present, ...all]));
      result.entries = listEntries(reader.doc).length;
      reader.destroy();
      result.cycles++;
    }
    return result;
  } finally {
    for (const c of clients) c.destroy();
    child.process.kill('SIGKILL');
  }
}
