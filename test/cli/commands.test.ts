/** The rest of the CLI against a real server: log with files, login, incidents and use, tail, export. */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createEntry, listEntries } from '../../shared/schema/doc.js';
import { BridgelogApi } from '../../cli/server-api.js';
import { markdownReport } from '../../cli/markdown-export.js';
import { burstyTraffic, writePcap } from '../helpers/capture-writer.js';
import { connect, synced, type CollabClient } from '../helpers/collab-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { bridgelog, cliEnv, cliHome, spawnBridgelog } from './bridgelog-cli.js';

let server: TestServer;
let carol: { id: string; name: string; token: string };
const clients: CollabClient[] = [];

beforeAll(async () => {
  server = await startTestServer();
  carol = await server.createUser('responder', 'carol-cli');
});
afterAll(async () => {
  for (const c of clients) c.destroy();
  await server.close();
});

async function open(incidentId: string, token = carol.token): Promise<CollabClient> {
  const c = connect(server.wsUrl, incidentId, token);
  clients.push(c);
  await synced(c);
  return c;
}

const envFor = (incidentId?: string) => cliEnv(server.url, carol.token, incidentId);

describe('bridgelog log', () => {
  it('adds a note with files attached through the upload API, so a capture gets its analysis', async () => {
    const incident = await server.createIncident(carol.token);
    const env = envFor(incident.id);
    const capture = path.join(env.BRIDGELOG_HOME, 'ny-sw01-uplink.pcap.gz');
    fs.writeFileSync(capture, zlib.gzipSync(writePcap(burstyTraffic(1_772_604_750_123_456_789n, 500), { nanos: true, little: true })));
    const screenshot = path.join(env.BRIDGELOG_HOME, 'errors.txt');
    fs.writeFileSync(screenshot, 'Gi0/1: 1532 input errors, 0 CRC\n');

    const result = await bridgelog(
      ['log', 'Uplink drops bursts above 1 Gbit/s\n\nCaptured on the SPAN port for 30 s.', '--attach', capture, screenshot, '--conclusion', 'Microbursts, not a bad cable.'],
      env,
    );
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/logged to incident/);

    const [entry] = listEntries((await open(incident.id)).doc);
    expect(entry).toMatchObject({
      kind: 'note',
      title: 'Uplink drops bursts above 1 Gbit/s',
      observations: 'Uplink drops bursts above 1 Gbit/s\n\nCaptured on the SPAN port for 30 s.',
      conclusion: 'Microbursts, not a bad cable.',
    });
    const files = (await (await server.api('GET', `/api/incidents/${incident.id}/attachments`, { token: carol.token })).json()) as Array<{ id: string; name: string; kind: string }>;
    expect(files.map((f) => [f.name, f.kind])).toEqual([['ny-sw01-uplink.pcap.gz', 'capture'], ['errors.txt', 'text']]);
    expect(entry!.attachments).toEqual(files.map((f) => f.id));
    await vi.waitFor(async () => {
      const analysis = (await (await server.api('GET', `/api/attachments/${files[0]!.id}/analysis`, { token: carol.token })).json()) as { status: string; packets?: number };
      expect(analysis).toMatchObject({ status: 'done', packets: 500 });
    }, { timeout: 20_000, interval: 100 });
  });

  it('logs a test with --kind test, and refuses what it cannot attach before sending anything', async () => {
    const incident = await server.createIncident(carol.token);
    const env = envFor(incident.id);
    expect((await bridgelog(['log', 'mtr to db01: 0% loss', '--kind', 'test'], env)).code).toBe(0);
    const missing = await bridgelog(['log', 'see file', '--attach', '/nonexistent/capture.pcap'], env);
    expect(missing).toMatchObject({ code: 2 });
    expect(missing.stderr).toContain('cannot attach /nonexistent/capture.pcap: no such file');
    expect(listEntries((await open(incident.id)).doc).map((e) => [e.kind, e.title])).toEqual([['test', 'mtr to db01: 0% loss']]);
  });
});

describe('bridgelog login, incidents and use', () => {
  it('saves a checked token, lists incidents and remembers the current one', async () => {
    const home = cliHome();
    const wrong = await bridgelog(['login', server.url, '--token', 'bl_not-a-token'], { BRIDGELOG_HOME: home });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('refused the API token (401)');
    expect(fs.existsSync(path.join(home, 'config.json'))).toBe(false);

    // The token from stdin keeps it out of the shell's history.
    const ok = await bridgelog(['login', server.url], { BRIDGELOG_HOME: home }, `${carol.token}\n`);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`logged in to ${server.url} as carol-cli (responder)`);
    expect(fs.statSync(path.join(home, 'config.json')).mode & 0o777).toBe(0o600);

    const a = await server.createIncident(carol.token, { title: 'BGP flap at the edge' });
    const b = await server.createIncident(carol.token, { title: 'DNS timeouts in ny' });
    const env = { BRIDGELOG_HOME: home };
    const used = await bridgelog(['use', a.id], env);
    expect(used.stdout).toBe(`current incident: ${a.id} (BGP flap at the edge)\n`);
    const list = await bridgelog(['incidents'], env);
    expect(list.stdout).toMatch(new RegExp(`^\\* ${a.id} +sev\\d +investigating +\\S+ \\S+Z +BGP flap at the edge$`, 'm'));
    expect(list.stdout).toMatch(new RegExp(`^  ${b.id} .* DNS timeouts in ny$`, 'm'));

    expect((await bridgelog(['log', 'edge router logs show hold timer expiry'], env)).code).toBe(0);
    expect(listEntries((await open(a.id)).doc).map((e) => e.title)).toEqual(['edge router logs show hold timer expiry']);
    const unknown = await bridgelog(['use', 'no-such-incident'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('incident no-such-incident does not exist');
  });
});

describe('bridgelog tail', () => {
  it('prints the latest entries, then each new one with its author, until Ctrl-C', async () => {
    const incident = await server.createIncident(carol.token);
    const writer = await open(incident.id);
    createEntry(writer.doc, { kind: 'test', title: 'iperf3 to db01', ranAt: '2026-03-04T06:20:00.000Z', command: 'iperf3 -c db01 -t 30' });
    await writer.saved();

    const child = spawnBridgelog(['tail'], envFor(incident.id));
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await vi.waitFor(() => expect(out).toBe('2026-03-04 06:20:00Z  test        iperf3 to db01  (carol-cli)\n    $ iperf3 -c db01 -t 30\n'), { timeout: 15_000 });

    const dave = await server.createUser('responder', 'dave-cli');
    const other = await open(incident.id, dave.token);
    createEntry(other.doc, { kind: 'note', title: 'db01 NIC renegotiated to 100 Mbit/s', ranAt: '2026-03-04T06:24:10.000Z' });
    await vi.waitFor(() => expect(out).toContain('2026-03-04 06:24:10Z  note        db01 NIC renegotiated to 100 Mbit/s  (dave-cli)\n'), { timeout: 15_000 });

    child.kill('SIGINT');
    expect(await exited).toBe(0);
  });
});

describe('bridgelog export', () => {
  it('writes the incident as Markdown to stdout', async () => {
    const incident = await server.createIncident(carol.token, { title: 'Packet loss on ny-sw01' });
    const env = envFor(incident.id);
    expect((await bridgelog(['run', '--', 'sh', '-c', 'echo 3 packets transmitted, 2 received'], env)).code).toBe(0);
    const report = await bridgelog(['export', incident.id, '--format', 'md'], env);
    expect(report.code).toBe(0);
    expect(report.stdout).toContain('# Packet loss on ny-sw01');
    expect(report.stdout).toContain("sh -c 'echo 3 packets transmitted, 2 received'");
    expect(report.stdout).toContain('carol-cli');
  });

  it('builds the report itself from the document and the history when the server has no export route', async () => {
    const incident = await server.createIncident(carol.token, { title: 'Packet loss on ny-sw01' });
    const env = envFor(incident.id);
    expect((await bridgelog(['run', '--', 'sh', '-c', 'echo 3 packets transmitted, 2 received'], env)).code).toBe(0);
    const report = await markdownReport(new BridgelogApi({ url: server.url, token: carol.token }), incident.id);
    const [entry] = listEntries((await open(incident.id)).doc);
    expect(report).toContain('# Packet loss on ny-sw01\n');
    expect(report).toContain(`### ${entry!.ranAt} · test · ${entry!.title}\n\nby carol-cli, logged `);
    expect(report).toContain("```sh\nsh -c 'echo 3 packets transmitted, 2 received'\n```");
    expect(report).toContain('3 packets transmitted, 2 received\n```');
    expect(report).toMatch(/- attachment: sh-c-echo-3-packets.*\.stdout\.txt \(text, 34 bytes\)/);
  });
});
