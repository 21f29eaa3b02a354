/**
 * Security of alerts (issue #14, items 1 and 2): an incident's label matchers cannot stall the server
 * (RE2, fully anchored, bounded), and an alert meant for a restricted incident is seen by its members
 * only — in every list, lookup, export, digest and live event — however broad anyone's matchers are.
 */
import * as Y from 'yjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import type { Alert } from '../../shared/alerts.js';
import { ServerEvent } from '../../shared/events.js';
import { createEntry, entriesOf } from '../../shared/schema/doc.js';
import { connect, synced } from '../helpers/collab-client.js';
import { ADMIN_TOKEN, startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let hookToken: string;
let alice: { id: string; token: string };
let mallory: { id: string; token: string };

beforeAll(async () => {
  server = await startTestServer();
  alice = await server.createUser('responder', 'alice-sec');
  mallory = await server.createUser('responder', 'mallory-sec');
  const res = await server.api('POST', '/api/integrations', { token: ADMIN_TOKEN, body: { name: 'nagios', kind: 'generic' } });
  hookToken = ((await res.json()) as { token: string }).token;
});
afterAll(async () => {
  await server.close();
});

let fingerprints = 0;
/** Sends one generic alert; resolves with its id (as Alice sees it) and the webhook's answer time. */
async function fire(labels: Record<string, string>, title = `alert ${++fingerprints}`, fingerprint = `fp-${fingerprints}`) {
  const started = performance.now();
  const res = await server.api('POST', '/api/hooks/generic', { token: hookToken, body: { title, labels, startsAt: '2026-03-04T06:20:00Z', fingerprint } });
  const ms = performance.now() - started;
  expect(res.status).toBe(200);
  const all = (await (await server.api('GET', '/api/alerts', { token: alice.token })).json()) as Alert[];
  const alert = all.find((a) => a.fingerprint === fingerprint);
  return { id: alert?.id ?? '', ms };
}
const alertsOf = async (token: string, query = '') => (await (await server.api('GET', `/api/alerts${query}`, { token })).json()) as Alert[];
const patchMatchers = (token: string, id: string, alertMatchers: string[]) => server.api('PATCH', `/api/incidents/${id}`, { token, body: { alertMatchers } });

describe('label matchers cannot stall the server', () => {
  it('runs a catastrophic-backtracking pattern in linear time: the webhook answers and /healthz stays prompt', async () => {
    const incident = await server.createIncident(alice.token, { title: 'ReDoS' });
    const patched = await patchMatchers(alice.token, incident.id, ['alertname=~(.*)*X']);
    expect(patched.status).toBe(200); // valid RE2: accepted, and harmless
    // 28 characters with no X: a backtracking engine tries 2^28 ways (seconds, the event loop held).
    const webhook = fire({ alertname: 'a'.repeat(28) });
    const health = (async () => {
      const started = performance.now();
      const res = await fetch(`${server.url}/healthz`);
      return { status: res.status, ms: performance.now() - started };
    })();
    const [hook, probe] = await Promise.all([webhook, health]);
    expect(hook.ms).toBeLessThan(1000);
    expect(probe).toMatchObject({ status: 200 });
    expect(probe.ms).toBeLessThan(1000);
    // And it matches correctly: the whole value must end in X.
    const matching = await fire({ alertname: `${'a'.repeat(28)}X` });
    const ids = (await alertsOf(alice.token, `?incident=${incident.id}`)).map((a) => a.id);
    expect(ids).toEqual([matching.id]);
  });

  it('runs a pattern that never finished in a backtracking engine, in linear time', async () => {
    const incident = await server.createIncident(alice.token, { title: 'ReDoS 2', alertMatchers: ['alertname=~(.*.*)*X'] });
    const hook = await fire({ alertname: 'a'.repeat(5000) });
    expect(hook.ms).toBeLessThan(1000);
    expect((await alertsOf(alice.token, `?incident=${incident.id}`)).map((a) => a.id)).not.toContain(hook.id);
  });

  it.each([
    ['a lookahead', 'alertname=~(?=Interface).*', /alertname=~\(\?=Interface\)\.\*.*RE2/],
    ['a lookbehind', 'alertname=~.*(?<!x)', /RE2/],
    ['a backreference', 'site=~(ny)\\1', /site=~\(ny\)\\1/],
    ['an unbalanced group', 'site=~a)|(b', /not a valid regex/],
    ['a too long matcher', `site=~${'a'.repeat(260)}`, /too long.*at most 256/],
    ['a regex that compiles too large', 'alertname=~.{999}', /too complex.*at most 500/],
  ])('refuses %s with a 400 naming it and its place, on create, update and declare', async (_what, matcher, message) => {
    const incident = await server.createIncident(alice.token, { title: 'refusals' });
    const { id: alertId } = await fire({ site: 'refusals' });
    for (const res of [
      await server.api('POST', '/api/incidents', { token: alice.token, body: { title: 'x', alertMatchers: ['site=ny', matcher] } }),
      await patchMatchers(alice.token, incident.id, ['site=ny', matcher]),
      await server.api('POST', `/api/alerts/${alertId}/declare`, { token: alice.token, body: { alertMatchers: ['site=ny', matcher] } }),
    ]) {
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: string; field: string };
      expect(body.field).toBe('alertMatchers.1');
      expect(body.error).toMatch(message);
    }
  });

  it('refuses more than 20 matchers on an incident', async () => {
    const res = await server.api('POST', '/api/incidents', { token: alice.token, body: { title: 'x', alertMatchers: Array.from({ length: 21 }, (_, i) => `l${i}=v`) } });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ field: 'alertMatchers', error: expect.stringMatching(/at most 20/) });
  });

  it('matches as Alertmanager does: RE2 syntax, fully anchored, a missing label as empty', async () => {
    const anchored = await server.createIncident(alice.token, { title: 'anchored', alertMatchers: ['site=~ny', 'instance=~ny-sw\\d+'] });
    const negated = await server.createIncident(alice.token, { title: 'negated', alertMatchers: ['site=~ams|fra', 'team!~db.*'] });
    const flags = await server.createIncident(alice.token, { title: 'RE2 flags', alertMatchers: ['alertname=~(?i)interface(discards|errors)'] });
    const ny = await fire({ site: 'ny', instance: 'ny-sw01' });
    const nyPrefix = await fire({ site: 'ny-2', instance: 'ny-sw01' }); // "ny" must be the whole value
    const nyLonger = await fire({ site: 'ny', instance: 'ny-sw01:Gi1/0/12' });
    const ams = await fire({ site: 'ams' }); // no team label: "" is not db.*
    const amsDb = await fire({ site: 'ams', team: 'dba' });
    const fra = await fire({ site: 'fra', team: 'net' });
    const loud = await fire({ alertname: 'InterfaceDISCARDS' });
    const other = await fire({ alertname: 'InterfaceDiscardsRising' });
    const on = async (id: string) => (await alertsOf(alice.token, `?incident=${id}`)).map((a) => a.id).sort();
    expect(await on(anchored.id)).toEqual([ny.id]);
    expect(await on(negated.id)).toEqual([ams.id, fra.id].sort());
    expect(await on(flags.id)).toEqual([loud.id]);
    for (const id of [nyPrefix.id, nyLonger.id, amsDb.id, other.id]) expect((await alertsOf(alice.token, '?inbox=true')).map((a) => a.id)).toContain(id);
  });

  it('skips an incident whose stored matcher no longer compiles, without failing the webhook', async () => {
    const stale = await server.createIncident(alice.token, { title: 'stale matchers', alertMatchers: ['site=stale'] });
    // As older data may hold: a JavaScript-only regex that RE2 refuses.
    await server.store.updateIncident(stale.id, { alertMatchers: ['site=stale', 'alertname=~(?!Watchdog).*'] });
    const alert = await fire({ site: 'stale', alertname: 'Watchdog' });
    expect(alert.id).not.toBe('');
    expect(await alertsOf(alice.token, `?incident=${stale.id}`)).toEqual([]);
    const suggestions = await server.api('GET', `/api/incidents/${stale.id}/alert-suggestions?at=2026-03-04T06:20:00Z`, { token: alice.token });
    expect(suggestions.status).toBe(200);
  });
});

describe("a restricted incident's alerts are its members' alone", () => {
  let restricted: { id: string };
  let open: { id: string };
  let secret: string;
  let aliceSocket: Socket;
  let mallorySocket: Socket;
  const heard = { alice: [] as Alert[], mallory: [] as Alert[] };

  const listen = async (token: string, into: Alert[]) => {
    const socket = io(server.url, { auth: { token }, transports: ['websocket'], reconnection: false });
    socket.on(ServerEvent.alertChanged, (a: Alert) => into.push(a));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    return socket;
  };

  beforeAll(async () => {
    aliceSocket = await listen(alice.token, heard.alice);
    mallorySocket = await listen(mallory.token, heard.mallory);
    restricted = await server.createIncident(alice.token, { title: 'Intrusion on db', members: [alice.id], alertMatchers: ['site=secret'] });
    // Mallory cannot see it; she writes matchers that take every alert with a site.
    open = await server.createIncident(mallory.token, { title: 'Everything', alertMatchers: ['site=~.+'] });
    secret = (await fire({ site: 'secret', host: 'db01' }, 'Exfiltration from db01', 'fp-secret')).id;
    expect(secret).not.toBe('');
  });
  afterAll(() => {
    aliceSocket.close();
    mallorySocket.close();
  });

  it('gives an arriving alert to the restricted incident its matchers select, and to no open one', async () => {
    const [alert] = (await alertsOf(alice.token)).filter((a) => a.id === secret);
    expect(alert?.incidents).toEqual([restricted.id]);
    expect((await alertsOf(mallory.token, `?incident=${open.id}`)).map((a) => a.id)).not.toContain(secret);
    // An alert for no restricted incident still goes to Mallory's.
    const plain = await fire({ site: 'ams' });
    expect((await alertsOf(mallory.token, `?incident=${open.id}`)).map((a) => a.id)).toContain(plain.id);
  });

  it('shows it to no one else: not listed, not found, not suggested, not attachable, not declarable', async () => {
    for (const query of ['', '?inbox=true', `?incident=${open.id}`, `?incident=${open.id}&include=detached`]) {
      expect((await alertsOf(mallory.token, query)).map((a) => a.id)).not.toContain(secret);
    }
    expect((await server.api('GET', `/api/alerts/${secret}`, { token: mallory.token })).status).toBe(404);
    const suggested = (await (await server.api('GET', `/api/incidents/${open.id}/alert-suggestions?at=2026-03-04T06:21:00Z`, { token: mallory.token })).json()) as Array<{ alert: Alert }>;
    expect(suggested.map((s) => s.alert.id)).not.toContain(secret);
    expect((await server.api('POST', `/api/incidents/${open.id}/alerts`, { token: mallory.token, body: { alertId: secret } })).status).toBe(404);
    expect((await server.api('POST', `/api/alerts/${secret}/declare`, { token: mallory.token, body: {} })).status).toBe(404);
  });

  it('is not pulled in by matchers written after it arrived, on an open or a restricted incident', async () => {
    const later = await server.createIncident(mallory.token, { title: 'Later', alertMatchers: ['host=~.*'] });
    const own = await server.createIncident(mallory.token, { title: 'Mine', members: [mallory.id], alertMatchers: ['site=secret'] });
    expect((await patchMatchers(mallory.token, open.id, ['host=db01'])).status).toBe(200);
    for (const id of [later.id, own.id, open.id]) expect((await alertsOf(mallory.token, `?incident=${id}`)).map((a) => a.id)).not.toContain(secret);
    // Nor when it fires again.
    await fire({ site: 'secret', host: 'db01' }, 'Exfiltration from db01', 'fp-secret');
    const [alert] = (await alertsOf(alice.token)).filter((a) => a.id === secret);
    expect(alert?.incidents).toEqual([restricted.id]);
  });

  it('announces it live to members only, each with the incidents they can see', async () => {
    await vi.waitFor(() => expect(heard.alice.some((a) => a.id === secret)).toBe(true));
    expect(heard.alice.find((a) => a.id === secret)?.incidents).toEqual([restricted.id]);
    const ams = await fire({ site: 'ams' }, 'public alert');
    await vi.waitFor(() => expect(heard.mallory.some((a) => a.id === ams.id)).toBe(true));
    expect(heard.mallory.find((a) => a.id === ams.id)?.incidents).toContain(open.id);
    expect(heard.mallory.map((a) => a.id)).not.toContain(secret);
    expect(JSON.stringify(heard.mallory)).not.toContain('Exfiltration');
  });

  it('stays hidden once detached from the restricted incident (back in its members’ inbox only)', async () => {
    expect((await server.api('DELETE', `/api/incidents/${restricted.id}/alerts/${secret}`, { token: alice.token })).status).toBe(200);
    expect((await alertsOf(alice.token, '?inbox=true')).map((a) => a.id)).toContain(secret);
    expect((await alertsOf(mallory.token, '?inbox=true')).map((a) => a.id)).not.toContain(secret);
    expect((await server.api('GET', `/api/alerts/${secret}`, { token: mallory.token })).status).toBe(404);
    await fire({ site: 'secret', host: 'db01' }, 'Exfiltration from db01', 'fp-secret');
    expect((await alertsOf(mallory.token, `?incident=${open.id}`)).map((a) => a.id)).not.toContain(secret);
    // Alice puts it back.
    expect((await server.api('POST', `/api/incidents/${restricted.id}/alerts`, { token: alice.token, body: { alertId: secret } })).status).toBe(200);
  });

  it('names in an export only the alerts the reader may see, whatever ids an entry lists', async () => {
    const client = connect(server.wsUrl, open.id, mallory.token);
    await synced(client);
    const entryId = createEntry(client.doc, { kind: 'test', title: 'looked at db01', ranAt: '2026-03-04T06:25:00Z' });
    // The entry names the secret alert by id, as a member could have written it.
    ((entriesOf(client.doc).get(entryId) as Y.Map<unknown>).get('alerts') as Y.Array<string>).push([secret]);
    await client.saved();
    client.destroy();
    for (const format of ['md', 'json', 'html']) {
      const asMallory = await (await server.api('GET', `/api/incidents/${open.id}/export?format=${format}`, { token: mallory.token })).text();
      expect(asMallory).toContain('looked at db01');
      expect(asMallory).not.toContain('Exfiltration');
    }
    // Alice may see both the incident and the alert: she gets its title.
    const asAlice = await (await server.api('GET', `/api/incidents/${open.id}/export?format=json`, { token: alice.token })).text();
    expect(asAlice).toContain('Exfiltration from db01');
  });

  it('leaves an alert now on a restricted incident only out of the lists, digest and export of an open one it was on', async () => {
    const moved = await fire({ site: 'ams', host: 'db01' }, 'Odd logins on db01', 'fp-moved'); // Mallory's matchers: host=db01
    expect((await alertsOf(mallory.token, `?incident=${open.id}`)).map((a) => a.id)).toContain(moved.id);
    // Alice moves it to her restricted incident.
    expect((await server.api('POST', `/api/incidents/${restricted.id}/alerts`, { token: alice.token, body: { alertId: moved.id } })).status).toBe(200);
    const [before] = (await alertsOf(alice.token)).filter((a) => a.id === moved.id);
    for (const id of before!.incidents.filter((id) => id !== restricted.id)) {
      expect((await server.api('DELETE', `/api/incidents/${id}/alerts/${moved.id}`, { token: alice.token })).status).toBe(200);
    }
    expect((await alertsOf(mallory.token, `?incident=${open.id}&include=detached`)).map((a) => a.id)).not.toContain(moved.id);
    const digest = await (await server.api('GET', `/api/incidents/${open.id}/digest?since=2000-01-01T00:00:00Z`, { token: mallory.token })).text();
    expect(digest).toContain('"items"');
    expect(digest).not.toContain('Odd logins');
    const exported = await (await server.api('GET', `/api/incidents/${open.id}/export?format=json`, { token: mallory.token })).text();
    expect(exported).not.toContain('Odd logins');
  });
});
