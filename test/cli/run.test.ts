/**
 * `bridgelog run` against a real server: the command runs as usual, and a test entry with what
 * happened is written through the document, attributed to the token's user, with the output attached.
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { IncidentAuthors, HistoryRecord } from '../../shared/api.js';
import { createHypothesis, listEntries, listHypotheses } from '../../shared/schema/doc.js';
import { connect, synced, type CollabClient } from '../helpers/collab-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { bridgelog, cliHome, queuedEntries, spawnBridgelog } from './bridgelog-cli.js';

let server: TestServer;
let alice: { id: string; name: string; token: string };
const clients: CollabClient[] = [];

beforeAll(async () => {
  server = await startTestServer();
  alice = await server.createUser('responder', 'alice-cli');
});
afterAll(async () => {
  for (const c of clients) c.destroy();
  await server.close();
});

async function openIncident(id: string): Promise<CollabClient> {
  const c = connect(server.wsUrl, id, alice.token);
  clients.push(c);
  await synced(c);
  return c;
}

async function newIncident() {
  const incident = await server.createIncident(alice.token, { title: 'Packet loss on ny-sw01' });
  const home = cliHome();
  const env = { BRIDGELOG_URL: server.url, BRIDGELOG_TOKEN: alice.token, BRIDGELOG_HOME: home, BRIDGELOG_INCIDENT: incident.id };
  return { incident, home, env };
}

const get = async <T>(path: string): Promise<T> => (await (await server.api('GET', path, { token: alice.token })).json()) as T;

const hasPing = (() => {
  try {
    execFileSync('ping', ['-c', '1', '-W', '1', '127.0.0.1'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('bridgelog run', () => {
  it('shows the output live, then logs a test entry with the command, times, host, exit code and output', async () => {
    const { incident, home, env } = await newIncident();
    const script = 'echo "64 bytes from 127.0.0.1: icmp_seq=1"; echo "no route to 10.9.9.9" >&2; echo "3 packets transmitted, 3 received"';
    const before = Date.now();
    const result = await bridgelog(['run', '--', 'sh', '-c', script], env);
    const after = Date.now();

    expect(result.code).toBe(0);
    // The command's own output reaches the terminal as usual, each stream on its own.
    expect(result.stdout).toBe('64 bytes from 127.0.0.1: icmp_seq=1\n3 packets transmitted, 3 received\n');
    expect(result.stderr).toContain('no route to 10.9.9.9\n');
    expect(result.stderr).toMatch(/bridgelog: logged to incident \S+ \(entry \w+\)/);
    expect(queuedEntries(home)).toEqual([]);

    const c = await openIncident(incident.id);
    const [entry] = listEntries(c.doc);
    const commandLine = `sh -c '${script.replace(/'/g, `'\\''`)}'`;
    expect(entry).toMatchObject({ kind: 'test', title: commandLine, command: commandLine, conclusion: '' });
    // Same machine, same clock: the corrected start lies within the CLI call.
    expect(Date.parse(entry!.ranAt)).toBeGreaterThanOrEqual(before - 50);
    expect(Date.parse(entry!.ranAt)).toBeLessThanOrEqual(after);
    const obs = entry!.observations;
    expect(obs).toContain(`- host: ${os.hostname()}`);
    expect(obs).toContain(`- started: ${entry!.ranAt}`);
    expect(obs).toMatch(/- ended: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/);
    expect(obs).toMatch(/- duration: \d+ ms/);
    expect(obs).toContain('- exit code: 0');
    expect(obs).toMatch(/- clock: UTC by the server's clock/);
    expect(obs).toContain('```text\n64 bytes from 127.0.0.1: icmp_seq=1\n');
    expect(obs).toContain('no route to 10.9.9.9');

    // stdout and stderr are attached apart, as uploaded text files.
    const files = await get<Array<{ id: string; name: string; kind: string }>>(`/api/incidents/${incident.id}/attachments`);
    expect(entry!.attachments).toEqual(files.map((f) => f.id));
    expect(files.map((f) => [f.name, f.kind])).toEqual([
      [expect.stringMatching(/^sh-c-echo-64-bytes-from.*\.stdout\.txt$/), 'text'],
      [expect.stringMatching(/^sh-c-echo-64-bytes-from.*\.stderr\.txt$/), 'text'],
    ]);
    const download = async (id: string) => (await server.api('GET', `/api/attachments/${id}`, { token: alice.token })).text();
    expect(await download(files[0]!.id)).toBe(result.stdout);
    expect(await download(files[1]!.id)).toBe('no route to 10.9.9.9\n');

    // Written by alice, as the server's history says.
    const authors = await get<IncidentAuthors>(`/api/incidents/${incident.id}/authors`);
    expect(authors.entries[entry!.id]?.createdBy).toEqual({ id: alice.id, name: 'alice-cli' });
    const history = await get<HistoryRecord[]>(`/api/incidents/${incident.id}/history`);
    expect(history.at(-1)).toMatchObject({ userId: alice.id, userName: 'alice-cli' });
  });

  it.skipIf(!hasPing)('logs a real ping', async () => {
    const { incident, env } = await newIncident();
    const result = await bridgelog(['run', '--title', 'ping loopback', '--', 'ping', '-c', '3', '-i', '0.2', '127.0.0.1'], env);
    expect(result.code).toBe(0);
    const [entry] = listEntries((await openIncident(incident.id)).doc);
    expect(entry).toMatchObject({ kind: 'test', title: 'ping loopback', command: 'ping -c 3 -i 0.2 127.0.0.1' });
    expect(entry!.observations).toContain('3 packets transmitted');
  });

  it("passes the command's exit code through, and logs how it ended", async () => {
    const { incident, env } = await newIncident();
    expect((await bridgelog(['run', '--', 'sh', '-c', 'exit 3'], env)).code).toBe(3);
    // Ended by a signal: 128 + its number, as a shell reports it.
    expect((await bridgelog(['run', '--', 'sh', '-c', 'kill -TERM $$'], env)).code).toBe(143);
    // Not found: 127, as a shell says, and nothing is logged for a command that never ran.
    const missing = await bridgelog(['run', '--', 'no-such-command-bl'], env);
    expect(missing.code).toBe(127);
    expect(missing.stderr).toContain('cannot run no-such-command-bl: command not found');

    const entries = listEntries((await openIncident(incident.id)).doc);
    expect(entries.map((e) => e.command)).toEqual(["sh -c 'exit 3'", "sh -c 'kill -TERM $$'"]);
    expect(entries[0]!.observations).toContain('- exit code: 3');
    expect(entries[0]!.observations).toContain('- output: none');
    expect(entries[0]!.attachments).toEqual([]);
    expect(entries[1]!.observations).toContain('- exit code: 143 (ended by SIGTERM)');
  });

  it('lets Ctrl-C stop the command, and still logs how it ended', async () => {
    const { incident, env } = await newIncident();
    const child = spawnBridgelog(['run', '--', 'sh', '-c', 'echo started; sleep 30'], env, { detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await vi.waitFor(() => expect(stdout).toBe('started\n'), { timeout: 15_000 });
    process.kill(-child.pid!, 'SIGINT'); // what the terminal does on Ctrl-C: the whole foreground group

    expect(await exited).toBe(130);
    expect(stderr).toContain('logged to incident');
    const [entry] = listEntries((await openIncident(incident.id)).doc);
    expect(entry!.observations).toContain('- exit code: 130 (ended by SIGINT)');
  });

  it('keeps only the last 20 lines in the observations, the whole output in the attachment', async () => {
    const { incident, env } = await newIncident();
    const result = await bridgelog(['run', '--incident', incident.id, '--', 'seq', '1', '50'], { ...env, BRIDGELOG_INCIDENT: '' });
    expect(result.code).toBe(0);
    const [entry] = listEntries((await openIncident(incident.id)).doc);
    const excerpt = Array.from({ length: 20 }, (_, i) => String(31 + i)).join('\n');
    expect(entry!.observations).toContain(`Last 20 of 50 lines of output:\n\n\`\`\`text\n${excerpt}\n\`\`\``);
    const [file] = await get<Array<{ id: string; size: number }>>(`/api/incidents/${incident.id}/attachments`);
    expect(file!.size).toBe(result.stdout.length);
  });

  it('marks the entry as evidence for or against a hypothesis', async () => {
    const { incident, env } = await newIncident();
    const c = await openIncident(incident.id);
    const duplex = createHypothesis(c.doc, 'Duplex mismatch on ny-sw01 Gi0/1');
    await c.saved();

    const byId = await bridgelog(['run', '--hypothesis', duplex, '--refutes', '--', 'true'], env);
    expect(byId.code).toBe(0);
    // Words of the statement work too; words that match nothing start a new hypothesis.
    expect((await bridgelog(['run', '--hypothesis', 'duplex mismatch', '--supports', '--', 'true'], env)).code).toBe(0);
    const fresh = await bridgelog(['run', '--hypothesis', 'MTU too small on the tunnel', '--supports', '--', 'true'], env);
    expect(fresh.stderr).toContain('new hypothesis: MTU too small on the tunnel');

    const check = await openIncident(incident.id);
    const [refuting, supporting, third] = listEntries(check.doc);
    expect(refuting!.hypotheses).toEqual({ [duplex]: 'refutes' });
    expect(supporting!.hypotheses).toEqual({ [duplex]: 'supports' });
    const mtu = listHypotheses(check.doc).find((h) => h.statement === 'MTU too small on the tunnel');
    expect(third!.hypotheses).toEqual({ [mtu!.id]: 'supports' });
  });

  it('refuses to start without a server or an incident, before running anything', async () => {
    const home = cliHome();
    const noServer = await bridgelog(['run', '--', 'sh', '-c', 'echo ran'], { BRIDGELOG_HOME: home });
    expect(noServer).toMatchObject({ code: 2, stdout: '' });
    expect(noServer.stderr).toContain('no server URL: set BRIDGELOG_URL and BRIDGELOG_TOKEN');
    const noIncident = await bridgelog(['run', '--', 'sh', '-c', 'echo ran'], { BRIDGELOG_HOME: home, BRIDGELOG_URL: server.url, BRIDGELOG_TOKEN: alice.token });
    expect(noIncident).toMatchObject({ code: 2, stdout: '' });
    expect(noIncident.stderr).toContain('which incident?');
  });
});
