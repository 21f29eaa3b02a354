/**
 * Honest save latency with and without an attacker, sampled in alternating windows of one run: the
 * attacker process runs (loaded) and is paused with SIGSTOP (unloaded) in turns, so a machine that
 * gets busier or quieter halfway through — a CI runner's neighbours, the disk's writeback — weighs on
 * both alike. The first `settleMs` of each window belong to neither.
 */
import type { ChildProcess } from 'node:child_process';
import { createEntry, entryText } from '../../shared/schema/doc.js';
import type { CollabClient } from './collab-client.js';

type Phase = 'loaded' | 'unloaded' | 'settling';

export interface WindowOptions {
  windowMs: number;
  settleMs: number;
  /** Stop after this many windows (the attacker is then sent SIGTERM); else when it exits by itself. */
  windows?: number;
}

export const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * q)]!;

/**
 * Each client types into an entry of its own (`honest <i>`) at ~20 edits/s until the attacker has
 * exited; each edit's save latency (ms) is filed under the phase it started and ended in.
 */
export async function saveLatenciesInWindows(attacker: ChildProcess, clients: CollabClient[], opts: WindowOptions): Promise<Record<'loaded' | 'unloaded', number[]>> {
  const exited = attacker.exitCode !== null ? Promise.resolve() : new Promise<void>((resolve) => attacker.once('exit', () => resolve()));
  let running = true;
  let phase: Phase = 'settling';
  let windowsLeft = opts.windows ?? Infinity;
  let done = false;
  void exited.then(() => (done = true));
  const enter = () => {
    phase = 'settling';
    setTimeout(() => (phase = running ? 'loaded' : 'unloaded'), opts.settleMs);
  };
  enter();
  const windows = setInterval(() => {
    if (attacker.exitCode !== null || attacker.signalCode !== null) return;
    if (--windowsLeft === 0) {
      clearInterval(windows);
      running = false;
      phase = 'settling';
      attacker.kill('SIGCONT');
      attacker.kill('SIGTERM');
      return;
    }
    running = !running;
    attacker.kill(running ? 'SIGCONT' : 'SIGSTOP');
    enter();
  }, opts.windowMs);

  const latencies = { loaded: [] as number[], unloaded: [] as number[] };
  await Promise.all(clients.map(async (c, i) => {
    const id = createEntry(c.doc, { kind: 'test', title: `honest ${i}`, ranAt: new Date().toISOString() });
    await c.saved();
    const text = entryText(c.doc, id, 'observations')!;
    while (!done) {
      const startedIn = phase;
      const started = performance.now();
      text.insert(text.length, 'ok ');
      await c.saved();
      const ms = performance.now() - started;
      if (startedIn !== 'settling' && phase === startedIn) latencies[startedIn].push(ms);
      await new Promise((r) => setTimeout(r, 50));
    }
  }));
  clearInterval(windows);
  return latencies;
}
