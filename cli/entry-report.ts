/**
 * A queued entry as it goes into the document: times moved onto the server's clock, and for a run,
 * observations that say where, when, how long and how it ended, with the last lines of output.
 */
import { Limits } from '../shared/protocol.js';
import type { EntryInput } from '../shared/schema/doc.js';
import type { QueuedEntry, RunRecord } from './entry-queue.js';

const MAX_EXCERPT_LINE = 300;

export function entryInput(entry: QueuedEntry): EntryInput {
  const offsetMs = entry.clockOffset?.offsetMs ?? 0;
  const ranAt = entry.localRanAt + offsetMs;
  const observations = [entry.run && runReport(entry, entry.run, ranAt), entry.text].filter(Boolean).join('\n\n');
  return {
    kind: entry.kind,
    title: clip(entry.title, Limits.maxTitleChars),
    ranAt: new Date(ranAt).toISOString(),
    command: clip(entry.command ?? '', Limits.maxFieldChars),
    observations: clip(observations, Limits.maxFieldChars),
    conclusion: clip(entry.conclusion ?? '', Limits.maxFieldChars),
  };
}

function runReport(entry: QueuedEntry, run: RunRecord, startedAt: number): string {
  const exit = run.signal ? `${run.exitCode} (ended by ${run.signal})` : String(run.exitCode);
  const lines = [
    `- host: ${run.host}`,
    `- started: ${new Date(startedAt).toISOString()}`,
    `- ended: ${new Date(startedAt + run.durationMs).toISOString()}`,
    `- duration: ${formatDuration(run.durationMs)}`,
    `- exit code: ${exit}`,
    `- output: ${outputSummary(entry, run)}`,
  ];
  if (entry.clockOffset) lines.push(`- clock: UTC by the server's clock (${clockNote(entry.clockOffset.offsetMs, entry.clockOffset.roundTripMs)})`);
  const excerpt = run.lastLines.map(cleanLine);
  if (excerpt.length > 0) {
    const heading = run.totalLines > excerpt.length ? `Last ${excerpt.length} of ${run.totalLines} lines of output:` : 'Output:';
    const fence = fenceFor(excerpt);
    lines.push('', heading, '', `${fence}text`, ...excerpt, fence);
  }
  return lines.join('\n');
}

function outputSummary(entry: QueuedEntry, run: RunRecord): string {
  if (run.stdoutBytes === 0 && run.stderrBytes === 0) return 'none';
  const files = entry.files.map((f) => f.name).join(', ');
  return `stdout ${formatBytes(run.stdoutBytes)}, stderr ${formatBytes(run.stderrBytes)}, attached as ${files}`;
}

function clockNote(offsetMs: number, roundTripMs: number): string {
  const ms = Math.round(Math.abs(offsetMs));
  const precision = `± ${Math.ceil(roundTripMs / 2)} ms`;
  if (ms === 0) return `this host's clock agreed with it, ${precision}`;
  return `this host's clock was ${ms} ms ${offsetMs > 0 ? 'behind' : 'ahead'}, ${precision}`;
}

/** What a terminal would show of a line: no colour codes, only the last state of a `\r` progress line. */
function cleanLine(line: string): string {
  const shown = line
    // CSI sequences (colours, cursor moves) and OSC sequences (window titles, links)
    .replace(/\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g, '')
    .replace(/\r+$/, '')
    .split('\r')
    .at(-1)!
    .trimEnd();
  return clip(shown, MAX_EXCERPT_LINE);
}

/** A fence longer than any run of backticks in the text, so the output cannot close it early. */
function fenceFor(lines: readonly string[]): string {
  const longest = Math.max(0, ...lines.map((l) => Math.max(0, ...(l.match(/`+/g) ?? []).map((run) => run.length))));
  return '`'.repeat(Math.max(3, longest + 1));
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = ((ms % 60_000) / 1000).toFixed(1);
  return minutes < 60 ? `${minutes} min ${seconds} s` : `${Math.floor(minutes / 60)} h ${minutes % 60} min ${seconds} s`;
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}
