/**
 * What arrives where (#20), at real receivers on port 0 and a real SMTP server: each kind's payload
 * (Standard Webhooks signed and verified with the reference library, Slack blocks, a Teams Adaptive
 * Card, a Matrix event under its transaction id, an email), who/when/what/link in each, every event
 * derived from the attributed history, digests of tests, and restricted incidents kept from
 * destinations not allowed them.
 */
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEntry, createHypothesis, entryText, setHypothesisStatus } from '../../shared/schema/doc.js';
import type { NotificationEvent } from '../../shared/notifications.js';
import { connect, synced, type CollabClient } from '../helpers/collab-client.js';
import { ADMIN_TOKEN } from '../helpers/server.js';
import { startReceiver, startSmtp, type Receiver } from './receivers.js';
import { startNotifyServer, type NotifyServer } from './setup.js';

const PUBLIC = 'https://bridgelog.example.com';
const ALL = ['incident.declared', 'incident.updated', 'milestone.set', 'conclusion.written', 'hypothesis.verdict', 'alert.linked', 'alert.resolved', 'tests.digest'];

let server: NotifyServer;
const receivers: Receiver[] = [];
const clients: CollabClient[] = [];
beforeAll(async () => {
  server = await startNotifyServer();
});
afterAll(async () => {
  for (const c of clients) c.destroy();
  await server?.close();
  for (const r of receivers) await r.close();
});

async function receiver(...args: Parameters<typeof startReceiver>): Promise<Receiver> {
  const r = await startReceiver(...args);
  receivers.push(r);
  return r;
}

async function editor(incidentId: string, token = ADMIN_TOKEN): Promise<CollabClient> {
  const c = connect(server.wsUrl, incidentId, token);
  clients.push(c);
  await synced(c);
  return c;
}

const eventsOf = (r: Receiver, incidentId: string) =>
  r.accepted().map((x) => (x.json as { data: NotificationEvent }).data).filter((e) => e.incident.id === incidentId);

describe('a signed webhook', () => {
  it('tells every moment of an incident, signed per Standard Webhooks, saying who, when and where to look', async () => {
    const hook = await receiver();
    const dest = await server.addDestination({ name: 'bus', kind: 'webhook', url: `${hook.url}/bridgelog`, events: ALL });
    const alice = await server.createUser('responder', 'alice');
    const started = Date.now();
    const incident = await server.createIncident(alice.token, { title: 'Packet loss on ny-sw01', severity: 'sev2' });
    await expect.poll(() => eventsOf(hook, incident.id).map((e) => e.type)).toEqual(['incident.declared']);

    // Every request verifies with the reference library, and its id is the message's.
    const wh = new Webhook(dest.secret!);
    for (const r of hook.received) {
      expect(r.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/=]+$/);
      expect(wh.verify(r.body, r.headers as Record<string, string>)).toEqual(r.json);
      expect(r.headers['content-type']).toBe('application/json');
    }
    const declared = hook.received[0]!;
    expect(declared.method).toBe('POST');
    expect(declared.path).toBe('/bridgelog');
    expect(declared.json).toMatchObject({ type: 'incident.declared', timestamp: expect.stringMatching(/Z$/) });
    const data = (declared.json as { data: NotificationEvent }).data;
    expect(data).toMatchObject({
      actor: { id: alice.id, name: 'alice' },
      incident: { id: incident.id, title: 'Packet loss on ny-sw01', severity: 'sev2', status: 'investigating', restricted: false, url: `${PUBLIC}/incidents/${incident.id}` },
      url: `${PUBLIC}/incidents/${incident.id}`,
    });
    expect(Date.parse(data.at)).toBeGreaterThanOrEqual(started - 1000);
    expect(data.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

    // Severity and status through the API, by bob: one update each, his name on it.
    const bob = await server.createUser('responder', 'bob');
    expect((await server.patch(`/api/incidents/${incident.id}`, { severity: 'sev1' }, bob.token)).status).toBe(200);
    await expect.poll(() => eventsOf(hook, incident.id).filter((e) => e.type === 'incident.updated')).toHaveLength(1);
    expect(eventsOf(hook, incident.id)[1]).toMatchObject({ actor: { name: 'bob' }, changes: [{ field: 'severity', from: 'sev2', to: 'sev1' }], summary: 'Severity sev2 → sev1' });

    // A milestone, through the milestone API.
    expect((await server.api('PUT', `/api/incidents/${incident.id}/milestones/mitigated`, { token: bob.token, body: {} })).status).toBe(200);
    await expect.poll(() => eventsOf(hook, incident.id).find((e) => e.type === 'milestone.set')).toMatchObject({ actor: { name: 'bob' }, milestone: { name: 'mitigated', label: 'Mitigated' } });

    // In the document, as the web app writes: a hypothesis confirmed, a conclusion typed in bursts.
    const c = await editor(incident.id, alice.token);
    const h = createHypothesis(c.doc, 'the uplink optic is failing');
    setHypothesisStatus(c.doc, h, 'confirmed');
    const entry = createEntry(c.doc, { kind: 'conclusion', title: 'Root cause', ranAt: new Date().toISOString() });
    const text = entryText(c.doc, entry, 'conclusion')!;
    for (const word of ['Optic ', 'on ', 'et-0/0/1 ', 'failing.']) {
      text.insert(text.length, word);
      await new Promise((r) => setTimeout(r, 100));
    }
    await c.saved();
    await expect.poll(() => eventsOf(hook, incident.id).find((e) => e.type === 'hypothesis.verdict')).toMatchObject({
      actor: { name: 'alice' }, hypothesis: { id: h, status: 'confirmed', statement: 'the uplink optic is failing' }, summary: 'Hypothesis confirmed: the uplink optic is failing',
    });
    // Told once, when it has been quiet, whole; linking to the entry as the web app does.
    await expect.poll(() => eventsOf(hook, incident.id).filter((e) => e.type === 'conclusion.written')).toHaveLength(1);
    expect(eventsOf(hook, incident.id).find((e) => e.type === 'conclusion.written')).toMatchObject({
      actor: { name: 'alice' }, entry: { id: entry, conclusion: 'Optic on et-0/0/1 failing.' }, url: `${PUBLIC}/incidents/${incident.id}#entry-${entry}`,
    });

    // An alert from monitoring, attached by hand, then resolved by its sender.
    const integration = (await (await server.api('POST', '/api/integrations', { token: ADMIN_TOKEN, body: { name: 'mon', kind: 'generic' } })).json()) as { token: string };
    const fire = await server.api('POST', '/api/hooks/generic', { token: integration.token, body: { title: 'ny-sw01 errors', fingerprint: 'fp1', labels: { site: 'ny' } } });
    expect(fire.status).toBe(200);
    const alerts = (await (await server.api('GET', '/api/alerts', { token: ADMIN_TOKEN })).json()) as Array<{ id: string }>;
    expect((await server.api('POST', `/api/incidents/${incident.id}/alerts`, { token: bob.token, body: { alertId: alerts[0]!.id } })).status).toBe(200);
    await expect.poll(() => eventsOf(hook, incident.id).find((e) => e.type === 'alert.linked')).toMatchObject({ actor: { name: 'bob' }, alert: { title: 'ny-sw01 errors', status: 'firing' } });
    await server.api('POST', '/api/hooks/generic', { token: integration.token, body: { title: 'ny-sw01 errors', fingerprint: 'fp1', labels: { site: 'ny' }, endsAt: new Date().toISOString() } });
    await expect.poll(() => eventsOf(hook, incident.id).find((e) => e.type === 'alert.resolved')).toMatchObject({ actor: null, alert: { status: 'resolved' } });

    // Each message once, and the delivery log says so.
    const ids = hook.received.map((r) => r.headers['webhook-id']);
    expect(new Set(ids).size).toBe(ids.length);
    await expect.poll(async () => (await server.deliveries(dest.id)).every((d) => d.status === 'delivered' && d.attempts === 1 && d.log[0]!.statusCode === 200)).toBe(true);
    const deliveries = await server.deliveries(dest.id);
    expect(deliveries.map((d) => d.id).sort()).toEqual([...ids].sort());
  });

  it('sends the tests of a digest interval as one message', async () => {
    const hook = await receiver();
    await server.addDestination({ name: 'digest', kind: 'webhook', url: hook.url, events: ['tests.digest'], digestMinutes: 2 });
    const incident = await server.createIncident(ADMIN_TOKEN, { title: 'BGP flaps' });
    const c = await editor(incident.id);
    const ranAt = new Date().toISOString();
    for (const title of ['ping core1', 'traceroute to sf', 'show bgp summary']) {
      createEntry(c.doc, { kind: 'test', title, ranAt });
      await new Promise((r) => setTimeout(r, 150));
    }
    createEntry(c.doc, { kind: 'note', title: 'not a test', ranAt });
    await c.saved();
    await expect.poll(() => hook.received.length, { timeout: 8000 }).toBe(1);
    const digest = (hook.received[0]!.json as { data: NotificationEvent }).data;
    expect(digest.type).toBe('tests.digest');
    expect(digest.summary).toBe('3 new tests logged');
    expect(digest.tests!.map((t) => t.title)).toEqual(['ping core1', 'traceroute to sf', 'show bgp summary']);
    expect(digest.tests![0]).toMatchObject({ actor: { name: 'admin' }, url: expect.stringContaining(`/incidents/${incident.id}#entry-`) });
    // Sent when the interval ended (2 digest minutes of 1 s here), not per test.
    expect(hook.received[0]!.at - Date.parse(digest.tests![0]!.at)).toBeGreaterThanOrEqual(1800);
    // A later test starts the next digest.
    createEntry(c.doc, { kind: 'test', title: 'ping core2', ranAt });
    await expect.poll(() => hook.received.length, { timeout: 8000 }).toBe(2);
    expect((hook.received[1]!.json as { data: NotificationEvent }).data.tests!.map((t) => t.title)).toEqual(['ping core2']);
  });
});

describe('restricted incidents', () => {
  it('never reach a destination not allowed for them; reach one that is', async () => {
    const everyone = await receiver();
    const allowedHook = await receiver();
    await server.addDestination({ name: 'everyone', kind: 'webhook', url: everyone.url, events: ALL, digestMinutes: 1 });
    const allowed = await server.addDestination({ name: 'security team', kind: 'webhook', url: allowedHook.url, events: ALL });
    const secret = await server.createIncident(ADMIN_TOKEN, { title: 'Credential leak', members: [] });
    const open = await server.createIncident(ADMIN_TOKEN, { title: 'Open incident' });
    expect((await server.patch(`/api/notifications/destinations/${allowed.id}`, { restrictedIncidents: [secret.id] })).status).toBe(200);

    await server.patch(`/api/incidents/${secret.id}`, { severity: 'sev1', title: 'Credential leak in CI' });
    await server.api('PUT', `/api/incidents/${secret.id}/milestones/detected`, { token: ADMIN_TOKEN, body: {} });
    const c = await editor(secret.id);
    createEntry(c.doc, { kind: 'test', title: 'grep the logs', ranAt: new Date().toISOString() });
    await c.saved();
    await server.patch(`/api/incidents/${open.id}`, { severity: 'sev1' });

    await expect.poll(() => eventsOf(allowedHook, secret.id).filter((e) => e.type === 'incident.updated')).toHaveLength(1);
    expect(eventsOf(allowedHook, secret.id)[0]!.incident).toMatchObject({ restricted: true, title: 'Credential leak in CI' });
    await expect.poll(() => eventsOf(everyone, open.id).map((e) => e.type)).toEqual(['incident.declared', 'incident.updated']);
    // Long enough for anything queued about it to have gone out (digest included).
    await new Promise((r) => setTimeout(r, 2500));
    expect(everyone.received.filter((r) => r.body.includes(secret.id) || r.body.includes('Credential leak'))).toEqual([]);
  });

  it('withholds what was queued for an incident that became restricted', async () => {
    const hook = await receiver(() => 'slow');
    const dest = await server.addDestination({ name: 'slowpoke', kind: 'webhook', url: hook.url, events: ['incident.declared', 'incident.updated'] });
    const incident = await server.createIncident(ADMIN_TOKEN, { title: 'Soon secret' });
    await expect.poll(() => hook.received.length).toBeGreaterThan(0);
    await server.patch(`/api/incidents/${incident.id}`, { members: [] });
    hook.answer = () => ({ status: 200 });
    await expect.poll(async () => (await server.deliveries(dest.id)).map((d) => d.status)).toEqual(['withheld']);
    expect(hook.accepted()).toEqual([]);
  });
});

describe('each kind’s payload', () => {
  it('Slack: Block Kit with the incident, what happened, who and when, and a button back', async () => {
    const slack = await receiver(() => ({ status: 200, body: 'ok' }));
    await server.addDestination({ name: '#incidents', kind: 'slack', url: `${slack.url}/services/T0/B0/x`, events: ['incident.declared'] });
    const incident = await server.createIncident(ADMIN_TOKEN, { title: 'DNS <outage> & more', severity: 'sev1' });
    await expect.poll(() => slack.received.length).toBe(1);
    const body = slack.received[0]!.json as { text: string; blocks: Array<Record<string, any>> };
    expect(slack.received[0]!.path).toBe('/services/T0/B0/x');
    expect(body.text).toBe('DNS <outage> & more: Incident declared: DNS <outage> & more (sev1)');
    expect(body.blocks[0]).toEqual({
      type: 'section',
      text: { type: 'mrkdwn', text: `*<${PUBLIC}/incidents/${incident.id}|DNS &lt;outage&gt; &amp; more>* · sev1 · investigating\nIncident declared: DNS &lt;outage&gt; &amp; more (sev1)` },
    });
    expect(body.blocks.at(-2)).toMatchObject({ type: 'context', elements: [{ type: 'mrkdwn', text: expect.stringMatching(/^admin · \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/) }] });
    expect(body.blocks.at(-1)).toEqual({ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open in Bridgelog' }, url: `${PUBLIC}/incidents/${incident.id}` }] });
  });

  it('Teams: an Adaptive Card in the attachments envelope Workflows expects', async () => {
    const teams = await receiver(() => ({ status: 202, body: '' }));
    await server.addDestination({ name: 'Teams ops', kind: 'teams', url: `${teams.url}/workflows/abc`, events: ['incident.updated'] });
    const incident = await server.createIncident(ADMIN_TOKEN, { title: 'Storage latency' });
    expect((await server.patch(`/api/incidents/${incident.id}`, { status: 'monitoring' })).status).toBe(200);
    await expect.poll(() => teams.received.length).toBe(1);
    const body = teams.received[0]!.json as { type: string; attachments: Array<{ contentType: string; contentUrl: null; content: Record<string, any> }> };
    expect(body.type).toBe('message');
    expect(body.attachments).toHaveLength(1);
    const card = body.attachments[0]!;
    expect(card.contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(card.contentUrl).toBeNull();
    expect(card.content).toMatchObject({ $schema: 'http://adaptivecards.io/schemas/adaptive-card.json', type: 'AdaptiveCard', version: '1.4' });
    expect(card.content.body[0]).toMatchObject({ type: 'TextBlock', text: 'Storage latency', weight: 'Bolder' });
    expect(card.content.body[1]).toMatchObject({ type: 'TextBlock', text: 'Status investigating → monitoring' });
    expect(card.content.body.at(-1).facts).toEqual([
      { title: 'Severity', value: 'sev3' },
      { title: 'Status', value: 'monitoring' },
      { title: 'By', value: 'admin' },
      { title: 'When', value: expect.stringMatching(/ UTC$/) },
    ]);
    expect(card.content.actions).toEqual([{ type: 'Action.OpenUrl', title: 'Open in Bridgelog', url: `${PUBLIC}/incidents/${incident.id}` }]);
  });

  it('Matrix: m.room.message PUT under the message id as transaction id, with the access token', async () => {
    const matrix = await receiver(() => ({ status: 200, body: '{"event_id":"$e1"}' }));
    await server.addDestination({ name: 'war room', kind: 'matrix', url: matrix.url, roomId: '!ops:example.org', accessToken: 'syt_token', events: ['milestone.set'] });
    const incident = await server.createIncident(ADMIN_TOKEN, { title: 'Link flaps' });
    await server.api('PUT', `/api/incidents/${incident.id}/milestones/acknowledged`, { token: ADMIN_TOKEN, body: { at: new Date(Date.now() - 60_000).toISOString() } });
    await expect.poll(() => matrix.received.length).toBe(1);
    const r = matrix.received[0]!;
    expect(r.method).toBe('PUT');
    expect(r.path).toMatch(/^\/_matrix\/client\/v3\/rooms\/!ops%3Aexample\.org\/send\/m\.room\.message\/msg_[A-Za-z0-9_-]{32}$/);
    expect(r.headers.authorization).toBe('Bearer syt_token');
    const body = r.json as Record<string, string>;
    expect(body.msgtype).toBe('m.text');
    expect(body.format).toBe('org.matrix.custom.html');
    expect(body.body).toContain('Link flaps · sev3 · investigating\nMilestone: Acknowledged at');
    expect(body.body).toContain(`${PUBLIC}/incidents/${incident.id}`);
    expect(body.formatted_body).toContain(`<a href="${PUBLIC}/incidents/${incident.id}">Link flaps</a>`);
  });

  it('email: through a real SMTP server, with login, a subject saying what happened and a stable Message-ID', async () => {
    const smtp = await startSmtp({ user: 'bridgelog', password: 'hunter2' });
    try {
      const dest = await server.addDestination({
        name: 'managers', kind: 'email', url: `smtp://bridgelog:hunter2@127.0.0.1:${smtp.port}`, from: 'bridgelog@example.com', to: ['oncall@example.com', 'cto@example.com'], events: ['incident.declared'],
      });
      const incident = await server.createIncident(ADMIN_TOKEN, { title: 'Payments down', severity: 'sev1' });
      await expect.poll(() => smtp.mails.length).toBe(1);
      const mail = smtp.mails[0]!;
      expect(mail.user).toBe('bridgelog');
      expect(mail.from).toBe('bridgelog@example.com');
      expect(mail.to).toEqual(['oncall@example.com', 'cto@example.com']);
      expect(mail.raw).toMatch(/^Subject: \[Bridgelog\] Payments down: Incident declared: Payments down \(sev1\)/m);
      const [delivery] = await server.deliveries(dest.id);
      expect(mail.raw).toContain(`Message-ID: <${delivery!.id}@bridgelog>`);
      expect(mail.text).toBe(`Payments down · sev1 · investigating\nIncident declared: Payments down (sev1)\n${mail.text.split('\n')[2]}\n${PUBLIC}/incidents/${incident.id}\n`);
      expect(mail.text.split('\n')[2]).toMatch(/^admin · \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
      // The attempt is recorded once the server's answer is in.
      await expect.poll(async () => (await server.deliveries(dest.id))[0]).toMatchObject({ status: 'delivered', attempts: 1 });
    } finally {
      await smtp.close();
    }
  });

  it('email: a wrong password is a failed attempt with the server’s reason', async () => {
    const smtp = await startSmtp({ user: 'bridgelog', password: 'right' });
    try {
      const dest = await server.addDestination({
        name: 'typo', kind: 'email', url: `smtp://bridgelog:wrong@127.0.0.1:${smtp.port}`, from: 'b@example.com', to: ['x@example.com'], events: ['incident.declared'],
      });
      await server.createIncident(ADMIN_TOKEN, { title: 'Anything' });
      await expect.poll(async () => (await server.deliveries(dest.id))[0]?.lastError ?? '').toMatch(/EAUTH|Invalid username or password/);
      expect(smtp.mails).toEqual([]);
    } finally {
      await smtp.close();
    }
  });
});
