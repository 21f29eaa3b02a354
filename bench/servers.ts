/**
 * The servers under test, each in its own process on a fresh port: Bridgelog (`server/main.ts`, a
 * fresh DATA_DIR) and the two peers people would pick instead (launchers in bench/peers/). All three
 * answer the same memory probe over IPC (bench/peers/probe.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ADMIN, api, freePort } from './lib.js';
import type { ProbeReply } from './peers/probe.js';
import type { Flavor, Target } from './load/wire.js';

export const SERVER_KINDS = ['bridgelog', 'y-websocket-server', 'hocuspocus'] as const;
export type ServerKind = (typeof SERVER_KINDS)[number];

export const PEERS = ['y-websocket-server', 'hocuspocus'] as const satisfies readonly ServerKind[];

export interface StartOptions {
  /** Bridgelog: use (and keep) this DATA_DIR instead of a fresh temporary one. */
  dataDir?: string;
  /** Bridgelog: IDLE_UNLOAD_MS. */
  idleUnloadMs?: number;
  /** Names the server's CPU profile, when profiling (see `ServerUnderTest.profileDir`). */
  label?: string;
}

const root = path.resolve(import.meta.dirname, '..');

function command(kind: ServerKind): { script: string; preload: string[]; ready: RegExp } {
  if (kind === 'bridgelog') {
    // The probe is preloaded rather than imported: Bridgelog's code is not changed for the benchmark.
    const probe = pathToFileURL(path.join(root, 'bench/peers/probe.ts')).href;
    return { script: path.join(root, 'server/main.ts'), preload: ['--import', probe], ready: /Bridgelog is serving/ };
  }
  return { script: path.join(root, `bench/peers/${kind}.ts`), preload: [], ready: /"ready":/ };
}

export class ServerUnderTest {
  /** When set, every server started writes V8 CPU profiles under here (`node --cpu-prof`) when it stops. */
  static profileDir: string | undefined;

  readonly flavor: Flavor;
  private writerToken = ADMIN;

  private constructor(
    readonly kind: ServerKind,
    readonly port: number,
    private readonly child: ChildProcess,
    readonly output: () => string,
    private readonly exited: Promise<unknown>,
    private readonly ownedDataDir: string | undefined,
  ) {
    this.flavor = kind === 'hocuspocus' ? 'hocuspocus' : 'y-websocket';
  }

  static async start(kind: ServerKind, opts: StartOptions = {}): Promise<ServerUnderTest> {
    const port = await freePort();
    const ownedDataDir = kind === 'bridgelog' && !opts.dataDir ? fs.mkdtempSync(path.join(os.tmpdir(), 'bridgelog-bench-')) : undefined;
    const { script, preload, ready } = command(kind);
    const dir = ServerUnderTest.profileDir;
    // One directory per server: Node writes a profile per thread (tsx's loader thread has its own).
    const profile = dir ? ['--cpu-prof', `--cpu-prof-dir=${path.join(dir, `${kind}-${opts.label ?? port}`)}`] : [];
    const child = spawn(process.execPath, ['--expose-gc', ...profile, '--import', 'tsx', ...preload, script], {
      cwd: root,
      env: {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        DATA_DIR: opts.dataDir ?? ownedDataDir ?? '',
        BRIDGELOG_BOOTSTRAP_TOKEN: ADMIN,
        LOG_LEVEL: 'info',
        IDLE_UNLOAD_MS: String(opts.idleUnloadMs ?? 60_000),
        // The benchmark's one user asks back to back for what a team would spread out: it measures
        // the work, not the pace that shares the server among users.
        USER_TIME_SHARE: '1000',
        // All its readers are one user too: no cap on one user's sockets (MAX_SOCKETS_PER_USER, 100 by default).
        MAX_SOCKETS_PER_USER: '100000',
      },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    let output = '';
    const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (ready.test(output)) resolve();
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      void exited.then((code) => reject(new Error(`${kind} exited (${code}) before serving:\n${output}`)));
    });
    const server = new ServerUnderTest(kind, port, child, () => output, exited, ownedDataDir);
    if (kind === 'bridgelog') {
      const writer = await api(server.httpUrl, 'POST', '/api/users', ADMIN, { name: `bench-writer-${Date.now()}`, role: 'responder' });
      server.writerToken = writer.token;
    }
    return server;
  }

  get httpUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Where a client of document `doc` connects. Bridgelog readers use the admin token, writers a responder's. */
  target(doc: string, role: 'reader' | 'writer' = 'reader'): Target {
    const ws = `ws://127.0.0.1:${this.port}`;
    switch (this.kind) {
      case 'bridgelog':
        return { url: `${ws}/collab/${doc}?token=${role === 'writer' ? this.writerToken : ADMIN}`, flavor: this.flavor, doc };
      case 'y-websocket-server':
        return { url: `${ws}/${doc}`, flavor: this.flavor, doc };
      case 'hocuspocus':
        return { url: ws, flavor: this.flavor, doc };
    }
  }

  /** `count` new documents: incidents created through Bridgelog's API, or fresh names for the peers. */
  async createDocs(count: number, title = 'bench'): Promise<string[]> {
    if (this.kind !== 'bridgelog') return Array.from({ length: count }, (_, i) => `${title}-${Date.now()}-${i}`);
    const ids: string[] = [];
    for (let i = 0; i < count; i++) ids.push((await api(this.httpUrl, 'POST', '/api/incidents', ADMIN, { title: `${title} ${i}` })).id);
    return ids;
  }

  /** Memory after a full GC, and CPU time so far. */
  memory(): Promise<ProbeReply> {
    return new Promise((resolve) => {
      const onMessage = (m: ProbeReply) => {
        if (m.type !== 'memory') return;
        this.child.off('message', onMessage);
        resolve(m);
      };
      this.child.on('message', onMessage);
      this.child.send({ type: 'memory' });
    });
  }

  /** Bridgelog's Prometheus metrics without labels, by name. */
  async metrics(): Promise<Map<string, number>> {
    const text = await (await fetch(`${this.httpUrl}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })).text();
    const out = new Map<string, number>();
    for (const line of text.split('\n')) {
      const m = /^([a-z_]+) ([-+0-9.eE]+|NaN)$/.exec(line);
      if (m) out.set(m[1]!, Number(m[2]));
    }
    return out;
  }

  /** Documents in memory: Bridgelog's `bridgelog_loaded_docs`, or the peer launcher's count. */
  async loadedDocs(): Promise<number> {
    if (this.kind === 'bridgelog') return (await this.metrics()).get('bridgelog_loaded_docs') ?? NaN;
    return (await this.memory()).docs ?? NaN;
  }

  /** SIGTERM (Bridgelog flushes and checkpoints; a CPU profile is written), then its data is removed. */
  async stop(): Promise<void> {
    this.child.kill('SIGTERM');
    const killer = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
    await this.exited;
    clearTimeout(killer);
    if (this.ownedDataDir) fs.rmSync(this.ownedDataDir, { recursive: true, force: true });
  }
}
