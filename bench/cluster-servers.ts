/**
 * The two clusters the cluster benchmark compares, each three instances on one PostgreSQL and one Redis
 * (the same two for both, started once by bench/cluster.ts) behind an HAProxy of its own with
 * Bridgelog's configuration (cluster/engines.ts: `/collab/<document>` by a consistent hash of the path,
 * health from GET /readyz):
 * - Bridgelog: three nodes of the compiled server (dist/: `npm run build` first), started the way
 *   `startLocalCluster` starts them (node 1 alone, so it alone migrates), each with a fresh DATA_DIR.
 *   startLocalCluster makes a PostgreSQL and a Redis of its own; here both servers use the same ones,
 *   so its pieces (startNode, startHaproxy) are used directly.
 * - Hocuspocus: three instances of bench/peers/hocuspocus-cluster.ts (Redis and Database extensions).
 *
 * Each start is a fresh set of processes; `stop` ends them (SIGTERM) and HAProxy.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import * as Y from 'yjs';
import { startHaproxy, type LocalHaproxy, type LocalPostgres, type LocalRedis } from '../cluster/engines.js';
import { startNode, type LocalNode } from '../cluster/local-cluster.js';
import { listEntries } from '../shared/schema/doc.js';
import { ADMIN, api, freePort, sleep } from './lib.js';
import { forEachMarker, type Target } from './load/wire.js';
import type { ConnectionsReply } from './peers/hocuspocus-cluster.js';

export const CLUSTER_KINDS = ['bridgelog', 'hocuspocus'] as const;
export type ClusterKind = (typeof CLUSTER_KINDS)[number];

/** PostgreSQL and Redis, shared by both clusters, and a connection for the benchmark's own queries. */
export interface Engines {
  postgres: LocalPostgres;
  redis: LocalRedis;
  db: pg.Client;
}

export interface InstanceHandle {
  name: string;
  port: number;
  pid: number;
  /** SIGKILL; resolves once it has exited. */
  kill(): Promise<void>;
}

/** Bridgelog's commit counters on one node, from /metrics (the histogram is the COMMIT round trip in the PostgreSQL mode). */
export interface CommitCounters {
  commits: number;
  seconds: number;
  updates: number;
  /** Commits that took at most 5 ms, and at most 10 ms (histogram buckets). */
  within5ms: number;
  within10ms: number;
}

const root = path.resolve(import.meta.dirname, '..');
const NODES = 3;

/** Readers spread round-robin over `instances` (reader r on instance r mod instances): how many on each. */
export function spread(readers: number, instances: number): number[] {
  return Array.from({ length: instances }, (_, i) => Math.floor(readers / instances) + (i < readers % instances ? 1 : 0));
}

export abstract class ClusterUnderTest {
  protected constructor(
    readonly kind: ClusterKind,
    readonly instances: InstanceHandle[],
    readonly haproxy: LocalHaproxy,
    protected readonly engines: Engines,
  ) {}

  static start(kind: ClusterKind, engines: Engines): Promise<ClusterUnderTest> {
    return kind === 'bridgelog' ? BridgelogCluster.launch(engines) : HocuspocusCluster.launch(engines);
  }

  /** A new document, reachable on every instance. */
  abstract createDoc(title: string): Promise<string>;
  /** Where a client of `doc` connects: instance `via`'s own port, or HAProxy. */
  abstract target(doc: string, via: number | 'haproxy', role?: 'reader' | 'writer'): Target;
  /** Collaboration connections open on each instance (NaN: not answering). */
  abstract connections(): Promise<number[]>;
  /** Bridgelog's commit counters per node (null for Hocuspocus, which has no such figures). */
  abstract commitCounters(): Promise<Array<CommitCounters | null> | null>;
  /** Writes to PostgreSQL for `doc` so far: Bridgelog's records (one per update), Hocuspocus's stores of the whole document. */
  abstract writes(doc: string): Promise<number>;
  /** What PostgreSQL holds of `doc`, as a document (null: nothing stored). */
  protected abstract stored(doc: string): Promise<Y.Doc | null>;
  abstract stop(): Promise<void>;

  /** The writers' markers ("writer#seq") in what PostgreSQL holds of `doc`, read from every entry's text. */
  async storedMarkers(doc: string): Promise<Set<string>> {
    const stored = await this.stored(doc);
    const found = new Set<string>();
    if (!stored) return found;
    for (const entry of listEntries(stored)) forEachMarker(Buffer.from(entry.observations, 'latin1'), (w, s) => found.add(`${w}#${s}`));
    return found;
  }
}

class BridgelogCluster extends ClusterUnderTest {
  private constructor(
    instances: InstanceHandle[],
    haproxy: LocalHaproxy,
    engines: Engines,
    private readonly nodes: LocalNode[],
    private readonly base: string,
    private readonly writerToken: string,
  ) {
    super('bridgelog', instances, haproxy, engines);
  }

  static async launch(engines: Engines): Promise<BridgelogCluster> {
    if (!fs.existsSync(path.join(root, 'dist/server/main.js'))) throw new Error('the cluster benchmark runs the compiled server: npm run build first');
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'bridgelog-bench-cluster-'));
    const nodes: LocalNode[] = [];
    for (let i = 0; i < NODES; i++) {
      const name = `node${i + 1}`;
      nodes.push(
        startNode(
          name,
          await freePort(),
          {
            DATABASE_URL: engines.postgres.url,
            REDIS_URL: engines.redis.url,
            DATA_DIR: path.join(base, name),
            BRIDGELOG_BOOTSTRAP_TOKEN: ADMIN,
            LOG_LEVEL: 'warn',
            // The benchmark's users ask back to back for what a team would spread out (as bench/servers.ts).
            USER_TIME_SHARE: '1000',
            // All its readers are one user too: no cap on one user's sockets (MAX_SOCKETS_PER_USER, 100 by default).
            MAX_SOCKETS_PER_USER: '100000',
          },
          { built: true },
        ),
      );
    }
    let haproxy: LocalHaproxy | undefined;
    try {
      await nodes[0]!.start();
      await Promise.all(nodes.slice(1).map((n) => n.start()));
      haproxy = await startHaproxy(await freePort(), nodes.map((n) => ({ name: n.name, port: n.port })));
      const writer = await api(nodes[0]!.url, 'POST', '/api/users', ADMIN, { name: `bench-writer-${Date.now()}`, role: 'responder' });
      const instances = nodes.map((n) => ({ name: n.name, port: n.port, pid: n.process()!.pid!, kill: () => n.kill() }));
      return new BridgelogCluster(instances, haproxy, engines, nodes, base, writer.token);
    } catch (err) {
      await haproxy?.stop();
      await Promise.all(nodes.map((n) => n.stop()));
      fs.rmSync(base, { recursive: true, force: true });
      throw err;
    }
  }

  async createDoc(title: string): Promise<string> {
    const { id } = await api(this.nodes[0]!.url, 'POST', '/api/incidents', ADMIN, { title });
    // Every node learns of the incident (and of the writer) through the catalog feed: wait until each does.
    for (const node of this.nodes) {
      const deadline = Date.now() + 15_000;
      while ((await fetch(`${node.url}/api/incidents/${id}`, { headers: { authorization: `Bearer ${this.writerToken}` } })).status !== 200) {
        if (Date.now() > deadline) throw new Error(`${node.name} does not know incident ${id} after 15 s`);
        await sleep(50);
      }
    }
    return id;
  }

  target(doc: string, via: number | 'haproxy', role: 'reader' | 'writer' = 'reader'): Target {
    const port = via === 'haproxy' ? this.haproxy.port : this.instances[via]!.port;
    return { url: `ws://127.0.0.1:${port}/collab/${doc}?token=${role === 'writer' ? this.writerToken : ADMIN}`, flavor: 'y-websocket', doc };
  }

  private async metrics(node: LocalNode): Promise<Map<string, number> | null> {
    try {
      const text = await (await fetch(`${node.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })).text();
      const out = new Map<string, number>();
      for (const line of text.split('\n')) {
        const m = /^([a-z_]+)(\{le="[^"]+"\})? ([-+0-9.eE]+|NaN)$/.exec(line);
        if (m) out.set(m[1]! + (m[2] ?? ''), Number(m[3]));
      }
      return out;
    } catch {
      return null; // killed
    }
  }

  async connections(): Promise<number[]> {
    return Promise.all(this.nodes.map(async (n) => (await this.metrics(n))?.get('bridgelog_connections') ?? NaN));
  }

  async commitCounters(): Promise<Array<CommitCounters | null>> {
    return Promise.all(
      this.nodes.map(async (n) => {
        const m = await this.metrics(n);
        if (!m) return null;
        const get = (name: string) => m.get(name) ?? NaN;
        return {
          commits: get('bridgelog_fdatasync_seconds_count'),
          seconds: get('bridgelog_fdatasync_seconds_sum'),
          updates: get('bridgelog_updates_total'),
          within5ms: get('bridgelog_fdatasync_seconds_bucket{le="0.005"}'),
          within10ms: get('bridgelog_fdatasync_seconds_bucket{le="0.01"}'),
        };
      }),
    );
  }

  async writes(doc: string): Promise<number> {
    const { rows } = await this.engines.db.query<{ n: number }>('SELECT count(*)::int AS n FROM incident_updates WHERE incident_id = $1', [doc]);
    return rows[0]!.n;
  }

  /** Every record of the incident (the log is never trimmed: checkpoints are only a shortcut). */
  protected async stored(doc: string): Promise<Y.Doc | null> {
    const { rows } = await this.engines.db.query<{ update: Buffer }>('SELECT "update" FROM incident_updates WHERE incident_id = $1 ORDER BY seq', [doc]);
    if (rows.length === 0) return null;
    const out = new Y.Doc();
    for (const r of rows) Y.applyUpdate(out, r.update);
    return out;
  }

  async stop(): Promise<void> {
    await this.haproxy.stop();
    await Promise.all(this.nodes.map((n) => n.stop()));
    fs.rmSync(this.base, { recursive: true, force: true });
  }
}

/** One Hocuspocus instance, a child process with an IPC channel. */
class HocuspocusInstance implements InstanceHandle {
  private constructor(
    readonly name: string,
    readonly port: number,
    private readonly child: ChildProcess,
    private readonly exited: Promise<unknown>,
  ) {}

  get pid(): number {
    return this.child.pid!;
  }

  static async start(name: string, engines: Engines): Promise<HocuspocusInstance> {
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'bench/peers/hocuspocus-cluster.ts')], {
      cwd: root,
      env: { ...process.env, PORT: String(port), NODE_ID: name, DATABASE_URL: engines.postgres.url, REDIS_URL: engines.redis.url },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (/"ready":/.test(output)) resolve();
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      void exited.then((code) => reject(new Error(`hocuspocus ${name} exited (${code}) before serving:\n${output}`)));
    });
    return new HocuspocusInstance(name, port, child, exited);
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  connections(): Promise<number> {
    if (!this.alive) return Promise.resolve(NaN);
    return new Promise((resolve) => {
      const onMessage = (m: ConnectionsReply) => {
        if (m.type !== 'connections') return;
        this.child.off('message', onMessage);
        resolve(m.count);
      };
      this.child.on('message', onMessage);
      this.child.send({ type: 'connections' });
    });
  }

  async kill(): Promise<void> {
    if (this.alive) this.child.kill('SIGKILL');
    await this.exited;
  }

  async stop(): Promise<void> {
    if (this.alive) this.child.kill('SIGTERM');
    const killer = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
    await this.exited;
    clearTimeout(killer);
  }
}

class HocuspocusCluster extends ClusterUnderTest {
  private constructor(
    private readonly hocuspocus: HocuspocusInstance[],
    haproxy: LocalHaproxy,
    engines: Engines,
  ) {
    super('hocuspocus', hocuspocus, haproxy, engines);
  }

  static async launch(engines: Engines): Promise<HocuspocusCluster> {
    const instances: HocuspocusInstance[] = [];
    try {
      // The first alone: it makes the table.
      instances.push(await HocuspocusInstance.start('hp1', engines));
      instances.push(...(await Promise.all(Array.from({ length: NODES - 1 }, (_, i) => HocuspocusInstance.start(`hp${i + 2}`, engines)))));
      const haproxy = await startHaproxy(await freePort(), instances.map((i) => ({ name: i.name, port: i.port })));
      return new HocuspocusCluster(instances, haproxy, engines);
    } catch (err) {
      await Promise.all(instances.map((i) => i.stop()));
      throw err;
    }
  }

  async createDoc(title: string): Promise<string> {
    return `${title.replace(/\W+/g, '-')}-${Date.now()}`;
  }

  target(doc: string, via: number | 'haproxy'): Target {
    const port = via === 'haproxy' ? this.haproxy.port : this.hocuspocus[via]!.port;
    return { url: `ws://127.0.0.1:${port}/collab/${doc}`, flavor: 'hocuspocus', doc };
  }

  connections(): Promise<number[]> {
    return Promise.all(this.hocuspocus.map((i) => i.connections()));
  }

  async commitCounters(): Promise<null> {
    return null;
  }

  async writes(doc: string): Promise<number> {
    const { rows } = await this.engines.db.query<{ stores: string }>('SELECT stores FROM hocuspocus_documents WHERE name = $1', [doc]);
    return Number(rows[0]?.stores ?? 0);
  }

  protected async stored(doc: string): Promise<Y.Doc | null> {
    const { rows } = await this.engines.db.query<{ state: Buffer }>('SELECT state FROM hocuspocus_documents WHERE name = $1', [doc]);
    if (!rows[0]) return null;
    const out = new Y.Doc();
    Y.applyUpdate(out, rows[0].state);
    return out;
  }

  async stop(): Promise<void> {
    await this.haproxy.stop();
    await Promise.all(this.hocuspocus.map((i) => i.stop()));
  }
}
