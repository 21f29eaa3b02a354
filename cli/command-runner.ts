/**
 * Runs the wrapped command as the person typed it (no shell in between), shows its output live,
 * and keeps stdout and stderr apart in files plus the last lines of both, in the order they came,
 * for the entry's excerpt.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import type { Readable, Writable } from 'node:stream';
import { CliError } from './errors.js';

export interface CommandResult {
  /** Local clock (ms since the epoch) when the command was started. */
  startedAt: number;
  /** Measured on the monotonic clock, so a clock step during the run cannot skew it. */
  durationMs: number;
  /** The command's exit code, or 128 + the signal's number when a signal ended it (as shells report it). */
  exitCode: number;
  signal?: NodeJS.Signals;
  stdoutBytes: number;
  stderrBytes: number;
  /** The last lines of output, stdout and stderr interleaved as they arrived. */
  lastLines: string[];
  /** How many lines the output had in all. */
  totalLines: number;
}

/** Where in its directory a run's output is kept. */
export const OutputFiles = { stdout: 'stdout.txt', stderr: 'stderr.txt' } as const;

const EXCERPT_LINES = 20;
/** Enough bytes to hold the last 20 lines of nearly any output. */
const TAIL_BYTES = 16 * 1024;

/** Ctrl-C and Ctrl-\ reach the command through the terminal; the CLI stays to log how it ended. */
const IGNORED_WHILE_RUNNING = ['SIGINT', 'SIGQUIT'] as const;
/** Sent to the CLI alone (kill, a closed terminal): passed on to the command. */
const FORWARDED = ['SIGTERM', 'SIGHUP'] as const;

export async function runCommand(argv: readonly string[], outDir: string): Promise<CommandResult> {
  const tail = new OutputTail();
  const startedAt = Date.now();
  const t0 = process.hrtime.bigint();
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['inherit', 'pipe', 'pipe'] });

  const ignore = () => {};
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  for (const s of IGNORED_WHILE_RUNNING) process.on(s, ignore);
  for (const s of FORWARDED) process.on(s, forward);
  try {
    const copies = [
      tee(child.stdout, process.stdout, path.join(outDir, OutputFiles.stdout), tail),
      tee(child.stderr, process.stderr, path.join(outDir, OutputFiles.stderr), tail),
    ];
    const { code, signal, durationMs } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; durationMs: number }>(
      (resolve, reject) => {
        let durationMs = 0;
        child.once('exit', () => (durationMs = Number(process.hrtime.bigint() - t0) / 1e6));
        child.once('error', (err: NodeJS.ErrnoException) => {
          const notFound = err.code === 'ENOENT';
          reject(new CliError(`cannot run ${argv[0]}: ${notFound ? 'command not found' : err.message}`, notFound ? 127 : 126));
        });
        child.once('close', (code, signal) => resolve({ code, signal, durationMs }));
      },
    );
    const [stdoutBytes, stderrBytes] = await Promise.all(copies);
    return {
      startedAt,
      durationMs,
      exitCode: code ?? 128 + (os.constants.signals[signal!] ?? 0),
      ...(signal ? { signal } : {}),
      stdoutBytes: stdoutBytes!,
      stderrBytes: stderrBytes!,
      lastLines: tail.lastLines(EXCERPT_LINES),
      totalLines: tail.lines,
    };
  } finally {
    for (const s of IGNORED_WHILE_RUNNING) process.off(s, ignore);
    for (const s of FORWARDED) process.off(s, forward);
  }
}

/** Copies one of the command's streams to the terminal and to a file; resolves with the byte count. */
async function tee(from: Readable, terminal: Writable, filePath: string, tail: OutputTail): Promise<number> {
  const file = fs.createWriteStream(filePath);
  let bytes = 0;
  from.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    tail.add(chunk);
  });
  // A closed terminal (`bridgelog run … | head`) must not stop the copy to the file.
  const quiet = () => from.unpipe(terminal);
  terminal.once('error', quiet);
  from.pipe(terminal, { end: false });
  from.pipe(file);
  await finished(file);
  terminal.off('error', quiet);
  return bytes;
}

/** The end of the output, both streams in arrival order, with a count of all its lines. */
class OutputTail {
  private chunks: Buffer[] = [];
  private size = 0;
  /** Whether older output was dropped, leaving the first kept line incomplete. */
  private cut = false;
  private newlines = 0;
  private endsWithNewline = true;

  add(chunk: Buffer): void {
    for (const byte of chunk) if (byte === 0x0a) this.newlines++;
    this.endsWithNewline = chunk.at(-1) === 0x0a;
    this.chunks.push(chunk);
    this.size += chunk.length;
    if (this.size > 2 * TAIL_BYTES) {
      const kept = Buffer.concat(this.chunks).subarray(-TAIL_BYTES);
      this.chunks = [kept];
      this.size = kept.length;
      this.cut = true;
    }
  }

  get lines(): number {
    return this.newlines + (this.endsWithNewline ? 0 : 1);
  }

  lastLines(n: number): string[] {
    if (this.size === 0) return [];
    const lines = Buffer.concat(this.chunks).toString('utf8').split('\n');
    if (this.endsWithNewline) lines.pop();
    if (this.cut) lines.shift();
    return lines.slice(-n);
  }
}
