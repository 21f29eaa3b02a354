/**
 * The IncidentLog contract against PostgreSQL, and what only a log shared by several nodes must do:
 * seqs in commit order with no gaps whoever writes, other nodes' records delivered in order, client
 * IDs owned across nodes.
 */
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { localBus } from '../../server/storage/cluster-bus.js';
import { openDatabase, type Database } from '../../server/storage/postgres/database.js';
import { PgIncidentLogs } from '../../server/storage/postgres/pg-incident-log.js';
import { ClientIdTaken, type IncidentLog, type RemoteRecords } from '../../server/storage/incident-log.js';
import { usePostgres } from '../helpers/postgres.js';
import { describeIncidentLogContract } from './incident-log.contract.js';

const postgres = usePostgres();
const silent = pino({ level: 'silent' });
const opened: Array<Database | PgIncidentLogs> = [];
afterAll(async () => {
  for (const o of opened.reverse()) await (o instanceof PgIncidentLogs ? o.close() : o.close());
});

let url: Promise<string> | undefined;
let incidents = 0;
/** A node: its own pool and logs (no bus: other nodes are found by polling, every 100 ms here). */
async function node(name: string, pollMs = 100): Promise<PgIncidentLogs> {
  const db = await openDatabase(await (url ??= postgres.newDatabase()));
  const logs = new PgIncidentLogs(db.pool, localBus(`${name}:${Math.random()}`), silent, pollMs);
  opened.push(db, logs);
  return logs;
}

describeIncidentLogContract('postgresql', () => ({
  readsCommitted: true,
  create: async () => (await node('a')).create(`inc${++incidents}`),
  // A restarted node: a new pool, nothing remembered.
  reopen: async (old) => (await node('b')).of(old.incidentId),
}));

describe('IncidentLog in PostgreSQL, shared by nodes', () => {
  async function join(log: IncidentLog) {
    const loaded = await log.load();
    const remote: RemoteRecords['records'] = [];
    const failures: Error[] = [];
    const appender = log.startAppending({
      onDurable: () => undefined,
      onFailure: (err) => failures.push(err),
      onRemote: ({ records }) => {
        remote.push(...records);
        for (const r of records) Y.applyUpdate(loaded.doc, r.update, 'remote');
      },
    });
    const doc = loaded.doc;
    doc.on('update', (update: Uint8Array, origin: unknown) => origin !== 'remote' && origin !== 'load' && appender.append(`u_${doc.clientID}`, update, [doc.clientID]));
    return { doc, appender, remote, failures };
  }

  it('two nodes writing one incident at full rate: one gap-free sequence, and both documents converge', async () => {
    const [a, b] = [await node('a'), await node('b')];
    const id = `inc${++incidents}`;
    await a.create(id);
    const [x, y] = [await join(a.of(id)), await join(b.of(id))];
    for (let i = 0; i < 400; i++) {
      x.doc.getMap('m').set(`x${i}`, i);
      y.doc.getMap('m').set(`y${i}`, i);
      if (i % 20 === 0) await new Promise((r) => setImmediate(r));
    }
    await Promise.all([x.appender.whenDurable(), y.appender.whenDurable()]);
    const seqs: number[] = [];
    for await (const r of a.of(id).records()) seqs.push(r.seq);
    expect(seqs).toEqual(Array.from({ length: 800 }, (_, i) => i + 1));
    await expect.poll(() => [x.appender.historySeq, y.appender.historySeq]).toEqual([800, 800]);
    expect(x.doc.getMap('m').toJSON()).toEqual(y.doc.getMap('m').toJSON());
    expect(Object.keys(x.doc.getMap('m').toJSON())).toHaveLength(800);
    // Each got the other's records as remote, in seq order, never its own.
    for (const r of [x.remote, y.remote]) expect(r.map((e) => e.seq)).toEqual([...r.map((e) => e.seq)].sort((p, q) => p - q));
    expect(x.remote.every((r) => r.userId === `u_${y.doc.clientID}`)).toBe(true);
    expect(x.remote).toHaveLength(400);
    expect(x.appender.settled()).toEqual({ seq: 800, at: expect.any(Number) });
    await Promise.all([x.appender.close(), y.appender.close()]);
    expect([...x.failures, ...y.failures]).toEqual([]);
  });

  it('a client ID another user claimed first on another node fails the batch, and nothing of it is stored', async () => {
    const [a, b] = [await node('a'), await node('b')];
    const id = `inc${++incidents}`;
    await a.create(id);
    const [x, y] = [await join(a.of(id)), await join(b.of(id))];
    x.appender.append('u_dana', new Uint8Array([0, 0]), [4242]);
    await x.appender.whenDurable();
    y.appender.append('u_mallory', new Uint8Array([0, 0]), [4242]);
    await expect(y.appender.whenDurable()).rejects.toBeInstanceOf(ClientIdTaken);
    expect(y.failures[0]).toBeInstanceOf(ClientIdTaken);
    const users: string[] = [];
    for await (const r of a.of(id).records()) users.push(r.userId);
    expect(users).toEqual(['u_dana']);
    expect((await b.of(id).load()).bindings.ownerOf(4242)).toBe('u_dana');
    await x.appender.close();
  });
});
