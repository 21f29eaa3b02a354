/** The `bridgelog` CLI as a child process, the way a person or a script runs it. */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function cliHome(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'bridgelog-cli-'));
}

/** The settings of a user of the CLI on `url` with `token`, a fresh BRIDGELOG_HOME, and a current incident if given. */
export function cliEnv(url: string, token: string, incidentId?: string): Record<string, string> & { BRIDGELOG_HOME: string } {
  return { BRIDGELOG_URL: url, BRIDGELOG_TOKEN: token, BRIDGELOG_HOME: cliHome(), ...(incidentId ? { BRIDGELOG_INCIDENT: incidentId } : {}) };
}

/** Starts the CLI from its source, with only the given BRIDGELOG_* settings (none leak in from the outside). */
export function spawnBridgelog(args: string[], env: Record<string, string>, opts: { detached?: boolean } = {}): ChildProcess {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('BRIDGELOG_')));
  return spawn(process.execPath, ['--import', 'tsx', path.join(root, 'cli/bridgelog.ts'), ...args], {
    cwd: root,
    env: { ...clean, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
    // Its own process group, like a job in a terminal: Ctrl-C goes to the whole group.
    detached: opts.detached ?? false,
  });
}

export function bridgelog(args: string[], env: Record<string, string>, input = ''): Promise<CliResult> {
  const child = spawnBridgelog(args, env);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdin!.end(input);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Entries waiting in a CLI home's queue. */
export function queuedEntries(home: string): Array<{ entryId: string; title: string; lastError?: string }> {
  const dir = path.join(home, 'queue');
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).map((name) => JSON.parse(fs.readFileSync(path.join(dir, name, 'entry.json'), 'utf8')));
}
