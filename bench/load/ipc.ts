/**
 * Load generators run in their own processes, so they neither share an event loop with the server
 * under test nor with each other. The orchestrator and a generator talk in small typed messages over
 * Node's IPC channel ("advanced" serialization, so latency arrays travel as Float64Arrays).
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export interface Message {
  type: string;
}

/** CPU a process used over a stretch of wall time; `share` is of one core. */
export interface CpuUse {
  userMs: number;
  systemMs: number;
  wallMs: number;
  share: number;
}

export function cpuMeter(): () => CpuUse {
  const cpu = process.cpuUsage();
  const wall = performance.now();
  return () => {
    const used = process.cpuUsage(cpu);
    const wallMs = performance.now() - wall;
    return { userMs: used.user / 1000, systemMs: used.system / 1000, wallMs, share: (used.user + used.system) / 1000 / wallMs };
  };
}

/** Messages arriving on a channel, kept until someone asks for their type. */
class Inbox {
  private readonly waiting: Message[] = [];
  private readonly wanted: Array<{ type: string; resolve: (m: Message) => void }> = [];

  push(m: Message): void {
    const i = this.wanted.findIndex((w) => w.type === m.type);
    if (i >= 0) this.wanted.splice(i, 1)[0]!.resolve(m);
    else this.waiting.push(m);
  }

  /** Every message of `type` that arrived and nobody asked for yet. */
  take<T extends Message>(type: string): T[] {
    const out = this.waiting.filter((m) => m.type === type) as T[];
    if (out.length > 0) this.waiting.splice(0, this.waiting.length, ...this.waiting.filter((m) => m.type !== type));
    return out;
  }

  next<T extends Message>(type: string): Promise<T> {
    const i = this.waiting.findIndex((m) => m.type === type);
    if (i >= 0) return Promise.resolve(this.waiting.splice(i, 1)[0] as T);
    return new Promise((resolve) => this.wanted.push({ type, resolve: resolve as (m: Message) => void }));
  }
}

/** The orchestrator's handle on one load-generator process. */
export class LoadProcess {
  private readonly inbox = new Inbox();
  private readonly child: ChildProcess;
  private readonly exited: Promise<number | null>;
  private stderr = '';

  constructor(script: string, config: unknown) {
    const child = fork(path.join(import.meta.dirname, script), {
      execArgv: ['--import', 'tsx'],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    });
    this.child = child;
    child.stderr!.on('data', (c: Buffer) => (this.stderr += c.toString()));
    child.on('message', (m: Message) => this.inbox.push(m));
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
    this.send({ type: 'config', config });
  }

  send<T extends Message>(m: T): void {
    this.child.send(m);
  }

  /** The next message of `type`; fails if the process dies or `timeoutMs` passes first. */
  async next<T extends Message>(type: string, timeoutMs = 120_000): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const died = this.exited.then((code) => {
      throw new Error(`load generator exited (${code}) while waiting for "${type}":\n${this.stderr}`);
    });
    const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no "${type}" from load generator in ${timeoutMs} ms:\n${this.stderr}`)), timeoutMs)));
    try {
      return await Promise.race([this.inbox.next<T>(type), died, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Every message of `type` received so far and not asked for with `next` (those it sent before dying included, once it has exited). */
  take<T extends Message>(type: string): T[] {
    return this.inbox.take<T>(type);
  }

  /** SIGKILL: it dies at once, with whatever it holds. Resolves once it has exited and its channel is read to the end. */
  async kill(): Promise<void> {
    const disconnected = this.child.connected ? new Promise((resolve) => this.child.once('disconnect', resolve)) : Promise.resolve();
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await Promise.all([this.exited, disconnected]);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    await this.exited;
  }
}

/** The generator's side of the channel. */
export const parent = (() => {
  const inbox = new Inbox();
  if (process.send) {
    process.on('message', (m: Message) => inbox.push(m));
    // An orphaned generator would keep sockets open against the next server: leave with the parent.
    process.on('disconnect', () => process.exit(0));
  }
  return {
    next: <T extends Message>(type: string) => inbox.next<T>(type),
    post: <T extends Message>(m: T) => process.send!(m),
    config: async <T>() => (await inbox.next<{ type: 'config'; config: T }>('config')).config,
  };
})();
