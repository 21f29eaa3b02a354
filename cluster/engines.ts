/**
 * PostgreSQL, Redis and HAProxy as local processes on 127.0.0.1, each in its own temp dir and on a free
 * port: for `npm run cluster` (try several nodes on one machine) and for the cluster tests. Each
 * returns handles that stop only the process it started.
 *
 * PostgreSQL refuses to run as root, so as root its cluster is made and run as the `postgres` user
 * (Debian's package creates it) with `runuser`. Durability settings stay at PostgreSQL's defaults
 * (fsync, synchronous_commit on): durability is what the several-node mode is about. Redis runs with
 * persistence off: nothing may depend on it keeping anything.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';
const isRoot = process.getuid?.() === 0;

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/** Resolves once something accepts TCP connections on `port`, or rejects after `timeoutMs`. */
export async function waitForPort(port: number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => (socket.destroy(), resolve(true)));
      socket.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function missing(binary: string, pkg: string): Promise<never> {
  throw new Error(`${binary} not found: install the Debian package ${pkg} (apt-get install -y ${pkg})`);
}

// ---------------------------------------------------------------------------------------------- PostgreSQL

export interface LocalPostgres {
  url: string;
  port: number;
  dataDir: string;
  /** The postmaster's PID while it runs. */
  pid(): Promise<number | undefined>;
  /** `pg_ctl stop -m fast` (clients disconnected, clean) or `immediate` (as if the power went). */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  start(): Promise<void>;
  /** Stops it and removes its files. */
  destroy(): Promise<void>;
}

async function asPostgres(file: string, args: string[]): Promise<string> {
  const [cmd, argv] = isRoot ? ['runuser', ['-u', 'postgres', '--', file, ...args]] : [file, args];
  const { stdout } = await run(cmd, argv, { maxBuffer: 16 << 20 });
  return stdout;
}

export async function startPostgres(options: { port?: number } = {}): Promise<LocalPostgres> {
  try {
    await fs.access(path.join(PG_BIN, 'initdb'));
  } catch {
    await missing(`${PG_BIN}/initdb`, 'postgresql');
  }
  const port = options.port ?? (await freePort());
  const base = await fs.mkdtemp(path.join(os.tmpdir(), 'bridgelog-pg-'));
  const dataDir = path.join(base, 'data');
  if (isRoot) await run('chown', ['postgres:postgres', base]);
  await asPostgres(path.join(PG_BIN, 'initdb'), ['-D', dataDir, '-U', 'bridgelog', '-A', 'trust', '-E', 'UTF8', '--no-sync', '--no-instructions']);
  const conf = [
    `port = ${port}`,
    `listen_addresses = '127.0.0.1'`,
    `unix_socket_directories = '${base}'`,
    'max_connections = 200',
    'fsync = on',
    'synchronous_commit = on',
    "log_min_messages = 'warning'",
  ].join('\n');
  await fs.appendFile(path.join(dataDir, 'postgresql.conf'), `\n${conf}\n`);
  const pg: LocalPostgres = {
    url: `postgres://bridgelog@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    async pid() {
      try {
        return Number((await fs.readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
      } catch {
        return undefined;
      }
    },
    async start() {
      await asPostgres(path.join(PG_BIN, 'pg_ctl'), ['-D', dataDir, '-l', path.join(base, 'server.log'), '-w', '-t', '60', 'start']);
    },
    async stop(mode = 'fast') {
      await asPostgres(path.join(PG_BIN, 'pg_ctl'), ['-D', dataDir, '-m', mode, '-w', 'stop']).catch(() => undefined);
    },
    async destroy() {
      await pg.stop('immediate');
      await fs.rm(base, { recursive: true, force: true });
    },
  };
  await pg.start();
  return pg;
}

// ---------------------------------------------------------------------------------------------- Redis

export interface LocalRedis {
  url: string;
  port: number;
  process(): ChildProcess | undefined;
  /** SIGKILL, as if it crashed (nothing persisted: it comes back empty). */
  kill(): Promise<void>;
  start(): Promise<void>;
}

export async function startRedis(options: { port?: number } = {}): Promise<LocalRedis> {
  const port = options.port ?? (await freePort());
  let child: ChildProcess | undefined;
  const redis: LocalRedis = {
    url: `redis://127.0.0.1:${port}`,
    port,
    process: () => child,
    async start() {
      child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning'], {
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      const failed = new Promise<never>((_, reject) => child!.once('error', () => void missing('redis-server', 'redis-server').catch(reject)));
      await Promise.race([waitForPort(port), failed]);
    },
    async kill() {
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGKILL');
      await exited;
    },
  };
  await redis.start();
  return redis;
}

// ---------------------------------------------------------------------------------------------- HAProxy

export interface LocalHaproxy {
  url: string;
  port: number;
  configFile: string;
  stop(): Promise<void>;
}

/**
 * The HAProxy configuration for Bridgelog nodes (docs/several-nodes.md explains each part):
 * `/collab/<incident>` by a consistent hash of the path, so an incident's editors usually meet on one
 * node; everything else round-robin with a cookie, so a socket.io long-poll stays on one node; health
 * from `/readyz` every 0.5 s; a dead node's clients reconnect to a live one.
 */
export interface HaproxyNode {
  name: string;
  port: number;
  /** Only used when every other node is down (one proxy per site, say, each preferring its own node). */
  backup?: boolean;
}

export function haproxyConfig(port: number, nodes: HaproxyNode[]): string {
  const servers = (cookie: boolean) =>
    nodes.map((n) => `    server ${n.name} 127.0.0.1:${n.port} check inter 500ms fall 2 rise 2${cookie ? ` cookie ${n.name}` : ''}${n.backup ? ' backup' : ''}`).join('\n');
  return `global
    maxconn 4000

defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout tunnel 1h
    timeout http-keep-alive 5s
    option redispatch
    retries 2

frontend bridgelog
    bind 127.0.0.1:${port}
    option forwardfor
    acl collab path_beg /collab/
    use_backend collab if collab
    default_backend app

backend collab
    balance uri
    hash-type consistent
    option httpchk GET /readyz
${servers(false)}

backend app
    balance roundrobin
    cookie BLNODE insert indirect nocache httponly
    option httpchk GET /readyz
${servers(true)}
`;
}

export async function startHaproxy(port: number, nodes: HaproxyNode[]): Promise<LocalHaproxy> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bridgelog-haproxy-'));
  const configFile = path.join(dir, 'haproxy.cfg');
  await fs.writeFile(configFile, haproxyConfig(port, nodes));
  const child = spawn('haproxy', ['-f', configFile, '-db'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const failed = new Promise<never>((_, reject) => {
    child.once('error', () => void missing('haproxy', 'haproxy').catch(reject));
    child.once('exit', (code) => reject(new Error(`haproxy exited (${code}): ${stderr}`)));
  });
  await Promise.race([waitForPort(port), failed]);
  failed.catch(() => undefined);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    configFile,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}
