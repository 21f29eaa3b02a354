/**
 * Several Bridgelog nodes on this machine, on one PostgreSQL and one Redis, behind HAProxy: what
 * `npm run cluster` starts, and what the cluster tests kill and restart. Nodes are child processes of
 * this one (`node --import tsx server/main.ts`, or the built `dist/server/main.js` when `built`), each
 * with its own port, NODE_ID and DATA_DIR (caches only: everything durable is in PostgreSQL).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort, startHaproxy, startPostgres, startRedis, type LocalHaproxy, type LocalPostgres, type LocalRedis } from './engines.js';

const root = path.resolve(import.meta.dirname, '..');

export interface LocalNode {
  name: string;
  port: number;
  url: string;
  dataDir: string;
  /** The running process, if any. */
  process(): ChildProcess | undefined;
  /** Everything the current process printed. */
  output(): string;
  /** Starts it (again), and waits until it serves. */
  start(): Promise<void>;
  /** SIGKILL, as if the machine died: nothing flushed, nothing said goodbye. */
  kill(): Promise<void>;
  /** SIGTERM: a graceful stop. */
  stop(): Promise<void>;
}

export interface LocalCluster {
  postgres: LocalPostgres;
  redis?: LocalRedis;
  haproxy?: LocalHaproxy;
  nodes: LocalNode[];
  /** HAProxy's URL, or the first node's without HAProxy. */
  url: string;
  /** The first admin's link, when the database had no users (it works on the first node only). */
  setupUrl?: string;
  stop(): Promise<void>;
}

export interface LocalClusterOptions {
  nodes?: number;
  redis?: boolean;
  haproxy?: boolean;
  /** Fixed ports (the cluster script), or free ones (tests). */
  ports?: { haproxy?: number; nodes?: number[] };
  /** Run the compiled server (dist/) rather than the sources through tsx. */
  built?: boolean;
  /** Extra environment for every node. */
  env?: Record<string, string>;
  /** Print the nodes' logs to this process's output. */
  inheritOutput?: boolean;
}

export function startNode(name: string, port: number, env: Record<string, string>, opts: { built?: boolean; inheritOutput?: boolean } = {}): LocalNode {
  let child: ChildProcess | undefined;
  let output = '';
  const dataDir = env.DATA_DIR!;
  const node: LocalNode = {
    name,
    port,
    url: `http://127.0.0.1:${port}`,
    dataDir,
    process: () => child,
    output: () => output,
    start() {
      output = '';
      const args = opts.built ? [path.join(root, 'dist/server/main.js')] : ['--import', 'tsx', path.join(root, 'server/main.ts')];
      const c = spawn(process.execPath, args, {
        cwd: root,
        env: { ...process.env, LOG_LEVEL: 'info', ...env, PORT: String(port), NODE_ID: name, HOST: '127.0.0.1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child = c;
      c.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (opts.inheritOutput) process.stdout.write(chunk);
      });
      c.stderr!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (opts.inheritOutput) process.stderr.write(chunk);
      });
      // Up when it says it can serve (/readyz), whatever its log level prints.
      return new Promise<void>((resolve, reject) => {
        let done = false;
        c.once('exit', (code, sig) => {
          if (!done) reject(new Error(`node ${name} exited (${sig ?? code}) before serving:\n${output.slice(-4000)}`));
          done = true;
        });
        const deadline = Date.now() + 60_000;
        const poll = async () => {
          while (!done) {
            if (Date.now() > deadline) {
              done = true;
              c.kill('SIGKILL');
              return reject(new Error(`node ${name} not ready after 60 s:\n${output.slice(-4000)}`));
            }
            const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false);
            if (ok) {
              done = true;
              return resolve();
            }
            await new Promise((r) => setTimeout(r, 100));
          }
        };
        void poll();
      });
    },
    async kill() {
      await signal(child, 'SIGKILL');
    },
    async stop() {
      await signal(child, 'SIGTERM');
    },
  };
  return node;
}

async function signal(child: ChildProcess | undefined, sig: NodeJS.Signals): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(sig);
  await exited;
}

export async function startLocalCluster(options: LocalClusterOptions = {}): Promise<LocalCluster> {
  const count = options.nodes ?? 3;
  const cleanup: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
  };
  try {
    const postgres = await startPostgres();
    cleanup.push(() => postgres.destroy());
    const redis = options.redis === false ? undefined : await startRedis();
    if (redis) cleanup.push(() => redis.kill());
    const base = await fs.mkdtemp(path.join(os.tmpdir(), 'bridgelog-cluster-'));
    cleanup.push(() => fs.rm(base, { recursive: true, force: true }));
    const nodes: LocalNode[] = [];
    for (let i = 0; i < count; i++) {
      const name = `node${i + 1}`;
      const port = options.ports?.nodes?.[i] ?? (await freePort());
      const env: Record<string, string> = {
        DATABASE_URL: postgres.url,
        DATA_DIR: path.join(base, name),
        ...(redis ? { REDIS_URL: redis.url } : {}),
        ...options.env,
      };
      nodes.push(startNode(name, port, env, options));
    }
    cleanup.push(async () => void (await Promise.all(nodes.map((n) => n.stop()))));
    // The first alone, so it alone migrates the database and issues the first admin's link.
    await nodes[0]!.start();
    const setupUrl = /Create the first admin here[^\n]*\n\s*(\S+)/.exec(nodes[0]!.output())?.[1];
    await Promise.all(nodes.slice(1).map((n) => n.start()));
    let haproxy: LocalHaproxy | undefined;
    if (options.haproxy !== false) {
      haproxy = await startHaproxy(options.ports?.haproxy ?? (await freePort()), nodes.map((n) => ({ name: n.name, port: n.port })));
      cleanup.push(() => haproxy!.stop());
    }
    return { postgres, redis, haproxy, nodes, url: haproxy?.url ?? nodes[0]!.url, setupUrl, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
