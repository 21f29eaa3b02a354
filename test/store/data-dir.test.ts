/** The data directory: one server at a time, and a damaged metadata file stops startup instead of being replaced. */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { startTestServer, tempDataDir } from '../helpers/server.js';

describe('DATA_DIR', () => {
  it('refuses a second server on the same DATA_DIR with a clear message, and frees it on shutdown', async () => {
    const dataDir = tempDataDir();
    const first = await startTestServer({ dataDir });
    await expect(startTestServer({ dataDir })).rejects.toThrow(/in use by another Bridgelog server \(pid \d+/);
    await first.close();
    const second = await startTestServer({ dataDir });
    await second.close();
  });

  it('takes over the lock of a server that died without releasing it', async () => {
    const dataDir = tempDataDir();
    fs.writeFileSync(path.join(dataDir, 'LOCK'), JSON.stringify({ pid: 2 ** 22 + 12345, host: (await import('node:os')).hostname() }));
    const server = await startTestServer({ dataDir });
    await server.close();
  });

  it.skipIf(process.platform !== 'linux')('takes over at once a lock whose process was killed with SIGKILL but not yet reaped (a zombie)', async () => {
    // The zombie is a grandchild: its parent blocks its own event loop (as a busy supervisor would be
    // slow), so it reaps the child only once told to, on stdin. Node reaps its own children at once.
    const parentScript = `
      const child = require('node:child_process').spawn('sleep', ['300'], { stdio: 'ignore' });
      child.on('exit', () => process.exit());
      process.stdout.write(child.pid + '\\n');
      require('node:fs').readSync(0, Buffer.alloc(1));
      child.kill('SIGKILL'); // should the test have stopped before killing it
    `;
    const parent = spawn(process.execPath, ['-e', parentScript], { stdio: ['pipe', 'pipe', 'inherit'] });
    const parentExited = new Promise((resolve) => parent.once('exit', resolve));
    try {
      const pid = Number(await new Promise<string>((resolve) => parent.stdout.once('data', (d: Buffer) => resolve(d.toString()))));
      const dataDir = tempDataDir();
      fs.writeFileSync(path.join(dataDir, 'LOCK'), JSON.stringify({ pid, host: os.hostname() }));
      process.kill(pid, 'SIGKILL');
      const state = () => fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]![0];
      await vi.waitFor(() => expect(state()).toBe('Z'));
      expect(() => process.kill(pid, 0)).not.toThrow(); // still "there" to kill(pid, 0)

      const started = performance.now();
      const server = await startTestServer({ dataDir });
      expect(performance.now() - started).toBeLessThan(2_000);
      await server.close();
    } finally {
      parent.stdin.end('\n');
      await parentExited;
    }
  });

  it.each([
    ['empty', '', /is empty/],
    ['truncated', '{"version":1,"users":[{"id":"a', /not valid JSON/],
    ['of another shape', '{"hello":"world"}', /unknown shape/],
  ])('stops startup when the metadata file is %s, and leaves it as it was', async (_name, content, message) => {
    const dataDir = tempDataDir();
    const file = path.join(dataDir, 'bridgelog.json');
    fs.writeFileSync(file, content);
    await expect(startTestServer({ dataDir })).rejects.toThrow(message);
    expect(fs.readFileSync(file, 'utf8')).toBe(content);
    expect(fs.existsSync(path.join(dataDir, 'LOCK'))).toBe(false);
  });

  it('keeps users and incidents across restarts', async () => {
    const dataDir = tempDataDir();
    const a = await startTestServer({ dataDir });
    const user = await a.createUser('responder', 'olga');
    const incident = await a.createIncident(user.token);
    await a.close();
    const b = await startTestServer({ dataDir });
    const res = await b.api('GET', `/api/incidents/${incident.id}`, { token: user.token });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ title: incident.title });
    await b.close();
  });
});
