/** Bridgelog as its own process (`node --import tsx server/main.ts`), for tests that kill it. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { freePort } from '../../cluster/engines.js';

export { freePort };

export interface ChildServer {
  url: string;
  process: ChildProcess;
  /** Everything it printed. */
  output: () => string;
  /** Waits for the process to end; resolves with its exit code or signal. */
  exited: Promise<number | NodeJS.Signals | null>;
}

export function startChildServer(env: Record<string, string>): Promise<ChildServer> {
  const root = path.resolve(import.meta.dirname, '../..');
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'server/main.ts')], {
    cwd: root,
    // At least `info`: the "Bridgelog is serving" line is how we learn the server is up.
    env: { ...process.env, ...env, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /"url":"(http:[^"]+)".*Bridgelog is serving/.exec(output);
      if (match) resolve({ url: match[1]!, process: child, output: () => output, exited });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    void exited.then((code) => reject(new Error(`server exited (${code}) before serving:\n${output}`)));
  });
}
