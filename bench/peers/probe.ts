/**
 * Answers the orchestrator's "memory?" over IPC with this process's memory (after a full GC, when
 * started with --expose-gc) and CPU time. Imported by the peer launchers, and preloaded into
 * Bridgelog with `--import` — so all three servers are measured the same way, with no server code
 * changed for the benchmark.
 */
export interface ProbeReply {
  type: 'memory';
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  /** Documents in memory, where the launcher can count them (Bridgelog's are in /metrics). */
  docs: number | null;
  cpuUserMs: number;
  cpuSystemMs: number;
}

let countDocs: (() => number) | undefined;

export function countDocsWith(count: () => number): void {
  countDocs = count;
}

const gc = (globalThis as { gc?: () => void }).gc;

if (process.send) {
  process.on('message', (m: { type?: string }) => {
    if (m?.type !== 'memory') return;
    const cpu = process.cpuUsage(); // before the GC below, which is the probe's cost, not the server's
    gc?.();
    gc?.();
    const mem = process.memoryUsage();
    process.send!({
      type: 'memory',
      rss: mem.rss,
      heapUsed: mem.heapUsed,
      external: mem.external,
      arrayBuffers: mem.arrayBuffers,
      docs: countDocs?.() ?? null,
      cpuUserMs: cpu.user / 1000,
      cpuSystemMs: cpu.system / 1000,
    } satisfies ProbeReply);
  });
  // A server left behind by a crashed orchestrator would hold its port and skew the next run.
  process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}
