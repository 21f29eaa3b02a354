/**
 * A real Prometheus Alertmanager (Debian's `prometheus-alertmanager`, installed by .ci/run) with a
 * webhook receiver pointing at Bridgelog: an alert posted to Alertmanager's own API arrives, attaches
 * to the matching incident, and resolves.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { Alert } from '../../shared/alerts.js';
import { ADMIN_TOKEN, startTestServer, tempDataDir, type TestServer } from '../helpers/server.js';
import { freePort } from '../helpers/child-server.js';

const ALERTMANAGER = '/usr/bin/prometheus-alertmanager';
let server: TestServer | undefined;
let alertmanager: ChildProcess | undefined;
let output = '';

afterAll(async () => {
  alertmanager?.kill('SIGTERM');
  await server?.close();
});

describe('with a real Alertmanager', () => {
  it('delivers a firing alert to the matching incident, then its resolution', async () => {
    if (!fs.existsSync(ALERTMANAGER)) throw new Error(`${ALERTMANAGER} is missing: apt-get install prometheus-alertmanager (.ci/run does)`);
    server = await startTestServer();
    const integration = (await (await server.api('POST', '/api/integrations', { token: ADMIN_TOKEN, body: { name: 'alertmanager e2e', kind: 'alertmanager' } })).json()) as { token: string };
    const responder = (await server.createUser('responder')).token;
    const incident = await server.createIncident(responder, { title: 'Discards in the e2e site', alertMatchers: ['site=e2e'] });

    const dir = tempDataDir();
    const config = path.join(dir, 'alertmanager.yml');
    fs.writeFileSync(config, [
      'route:',
      '  receiver: bridgelog',
      "  group_by: ['alertname']",
      '  group_wait: 0s',
      '  group_interval: 1s',
      '  repeat_interval: 1h',
      'receivers:',
      '  - name: bridgelog',
      '    webhook_configs:',
      `      - url: ${server.url}/api/hooks/alertmanager`,
      '        send_resolved: true',
      '        http_config:',
      '          authorization:',
      '            type: Bearer',
      `            credentials: ${integration.token}`,
      '',
    ].join('\n'));
    const amPort = await freePort();
    alertmanager = spawn(ALERTMANAGER, [
      `--config.file=${config}`,
      `--storage.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${amPort}`,
      '--cluster.listen-address=', // no HA peers
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    alertmanager.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    alertmanager.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const am = `http://127.0.0.1:${amPort}`;
    await vi.waitFor(async () => expect((await fetch(`${am}/-/ready`)).status).toBe(200), { timeout: 20_000, interval: 200 });

    const startsAt = new Date(Date.now() - 60_000).toISOString();
    const alert = {
      labels: { alertname: 'InterfaceDiscards', site: 'e2e', instance: 'e2e-sw01:Gi1/0/1', severity: 'warning' },
      annotations: { summary: 'Output discards rising on e2e-sw01' },
      startsAt,
      generatorURL: 'http://prometheus.e2e.internal/graph?g0.expr=rate(ifOutDiscards[5m])',
    };
    const post = (body: unknown) => fetch(`${am}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post([alert])).status).toBe(200);

    const attached = async () => (await (await server!.api('GET', `/api/alerts?incident=${incident.id}`, { token: responder })).json()) as Alert[];
    await vi.waitFor(async () => expect(await attached()).toHaveLength(1), { timeout: 20_000, interval: 200 });
    const firing = (await attached())[0]!;
    expect(firing).toMatchObject({ status: 'firing', source: 'alertmanager', title: 'Output discards rising on e2e-sw01', endsAt: null, startsAt: new Date(Date.parse(startsAt)).toISOString() });

    // Resolve it the way Prometheus does: the same alert with an end time.
    const endsAt = new Date().toISOString();
    expect((await post([{ ...alert, endsAt }])).status).toBe(200);
    await vi.waitFor(async () => expect((await attached())[0]!.status).toBe('resolved'), { timeout: 20_000, interval: 200 });
    const resolved = (await attached())[0]!;
    expect(resolved.endsAt).toBe(new Date(Date.parse(endsAt)).toISOString());
    expect(resolved.transitions.map((t) => t.status)).toEqual(['firing', 'resolved']);
  }, 90_000);
});
