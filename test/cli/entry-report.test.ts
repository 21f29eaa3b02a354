/** How a run becomes an entry: times on the server's clock, and an excerpt that reads like the terminal did. */
import { describe, expect, it } from 'vitest';
import { splitCommand, entryOptions } from '../../cli/args.js';
import type { QueuedEntry } from '../../cli/entry-queue.js';
import { entryInput } from '../../cli/entry-report.js';
import { commandLine, slug } from '../../cli/shell.js';

const run = (over: Partial<QueuedEntry> = {}, lastLines = ['ok']): QueuedEntry => ({
  version: 1,
  entryId: 'e1',
  server: 'http://bridgelog.test',
  incidentId: 'i1',
  kind: 'test',
  title: 'mtr db01',
  command: 'mtr -rc 10 db01',
  localRanAt: Date.UTC(2026, 2, 4, 6, 20, 0, 0),
  run: { host: 'ny-jump01', durationMs: 61_500, exitCode: 0, stdoutBytes: 3, stderrBytes: 0, lastLines, totalLines: lastLines.length },
  files: [{ path: 'stdout.txt', name: 'mtr-rc-10-db01.stdout.txt' }],
  ...over,
});

describe('a run as an entry', () => {
  it('moves the times onto the server clock and says by how much', () => {
    const input = entryInput(run({ clockOffset: { offsetMs: 4_250, roundTripMs: 6 } }));
    expect(input.ranAt).toBe('2026-03-04T06:20:04.250Z');
    expect(input.observations).toContain('- started: 2026-03-04T06:20:04.250Z\n- ended: 2026-03-04T06:21:05.750Z\n- duration: 1 min 1.5 s');
    expect(input.observations).toContain("- clock: UTC by the server's clock (this host's clock was 4250 ms behind, ± 3 ms)");
    expect(input.observations).toContain('- output: stdout 3 B, stderr 0 B, attached as mtr-rc-10-db01.stdout.txt');
  });

  it('shows the excerpt as the terminal did: no colour codes, the last state of progress lines, a fence nothing closes', () => {
    const lines = ['\x1b[32mPASS\x1b[0m link up', 'copy  10%\rcopy  60%\rcopy 100%', 'inline ``` fence'];
    const { observations } = entryInput(run({}, lines));
    expect(observations).toContain('Output:\n\n````text\nPASS link up\ncopy 100%\ninline ``` fence\n````');
  });

  it('quotes the command line so it can be pasted back, and names files after it', () => {
    const argv = ['sh', '-c', `echo "it's up" && ping -c 3 10.0.0.1`];
    expect(commandLine(argv)).toBe(`sh -c 'echo "it'\\''s up" && ping -c 3 10.0.0.1'`);
    expect(commandLine(['ping', '-c', '3', '127.0.0.1'])).toBe('ping -c 3 127.0.0.1');
    expect(commandLine(['printf', ''])).toBe("printf ''");
    expect(slug('ping -c 3 127.0.0.1')).toBe('ping-c-3-127-0-0-1');
  });

  it('takes the command after `--`, or from the first word that is not an option of bridgelog run', () => {
    expect(splitCommand(['--title', 'loss', '--', 'ping', '-c', '3', 'db01'], entryOptions)).toEqual({ own: ['--title', 'loss'], command: ['ping', '-c', '3', 'db01'] });
    expect(splitCommand(['-i', 'abc', '--supports', 'ping', '-c', '3'], entryOptions)).toEqual({ own: ['-i', 'abc', '--supports'], command: ['ping', '-c', '3'] });
    expect(splitCommand(['--title=x', 'ls', '--', '-l'], entryOptions)).toEqual({ own: ['--title=x'], command: ['ls', '--', '-l'] });
  });
});
