/**
 * A member acting against everyone else, as its own process (its CPU is not charged to the honest
 * clients being timed), until SIGTERM; then prints a JSON summary of what it did and how the server
 * answered. Four loops at once:
 *   - redos:     label matchers built to backtrack, then webhooks (from the real sender) with long alert names;
 *   - nesting:   updates of 40,000 nested maps inside an entry, then the history walks a viewer may ask for;
 *   - squatting: updates under the honest users' client IDs (read from their presence), with a clock gap;
 *   - presence:  a flood of the largest presence states, and presence under others' client IDs.
 * Input: the HOSTILE env variable, as JSON (Plan).
 */
import WebSocket from 'ws';
import * as Y from 'yjs';
import * as decoding from 'lib0/decoding';
import { createEntry, entriesOf } from '../../shared/schema/doc.js';
import { MessageType } from '../../shared/protocol.js';
import { encodeAwareness, encodeAwarenessEntries, encodeUpdate, type AwarenessEntry } from '../../server/collab/protocol.js';
import { PresenceLimits } from '../../server/collab/presence.js';

export interface Plan {
  url: string;
  /** The incident the honest users work in, and one of the hostile user's own. */
  work: string;
  sandbox: string;
  /** A responder's token (the hostile user) and a hook token of an Alertmanager integration. */
  token: string;
  hookToken: string;
  /** Only these loops (to find which one costs the honest users what): all when absent. */
  only?: string[];
}

const plan = JSON.parse(process.env.HOSTILE ?? '{}') as Plan;
const wsBase = plan.url.replace(/^http/, 'ws');
const counts: Record<string, number> = {};
const count = (what: string) => (counts[what] = (counts[what] ?? 0) + 1);
let stopping = false;

const syncUpdate = encodeUpdate;
const awareness = (entries: AwarenessEntry[]) => encodeAwareness(encodeAwarenessEntries(entries));

function api(method: string, path: string, body?: unknown, token = plan.token): Promise<Response> {
  return fetch(plan.url + path, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
}

function socket(incident: string): Promise<WebSocket | undefined> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${wsBase}/collab/${incident}?token=${plan.token}`);
    ws.on('open', () => resolve(ws));
    ws.on('close', (code) => count(`close ${code}`));
    ws.on('error', () => resolve(undefined));
    ws.on('unexpected-response', (_req, res) => (count(`http ${res.statusCode}`), resolve(undefined)));
  });
}

/** Sends `data` on a fresh socket and waits for the server to close it (or 2 s). */
async function sendOnce(incident: string, data: Uint8Array): Promise<void> {
  const ws = await socket(incident);
  if (!ws) return void (await pause(100));
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => (ws.terminate(), resolve()), 2000);
    ws.on('close', () => (clearTimeout(timer), resolve()));
    ws.send(data);
  });
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function redos(): Promise<void> {
  // Whatever the server makes of them: refused as not RE2, or accepted and matched in linear time.
  for (const matcher of ['alertname=~(.*)*X', 'alertname=~(a|a)*X', 'alertname=~(a*)*X']) {
    count(`matcher ${(await api('PATCH', `/api/incidents/${plan.sandbox}`, { alertMatchers: [matcher] })).status}`);
  }
  for (let n = 0; !stopping; n++) {
    const alerts = Array.from({ length: 20 }, (_, i) => ({
      status: 'firing',
      // Of another site than the honest incident's: a storm of alerts on it is not the member's doing.
      labels: { alertname: `${'a'.repeat(40)}${n}-${i}`, site: 'lab' },
      annotations: {},
      startsAt: new Date().toISOString(),
      fingerprint: `redos-${n}-${i}`,
    }));
    const res = await api('POST', '/api/hooks/alertmanager', { version: '4', status: 'firing', receiver: 'bridgelog', groupLabels: {}, commonLabels: {}, commonAnnotations: {}, externalURL: 'http://am', alerts }, plan.hookToken);
    count(`webhook ${res.status}`);
    // At the pace of a real Alertmanager in a storm (group_interval batches), not faster: the member
    // controls the matchers, not the sender; the webhook limit (100 in 10 s) caps the rest.
    await pause(res.status === 429 ? 1000 : 500);
  }
}

function deepNesting(depth: number): Uint8Array {
  const doc = new Y.Doc();
  const id = createEntry(doc, { kind: 'note', title: 'deep', ranAt: new Date().toISOString() });
  const before = Y.encodeStateVector(doc);
  doc.transact(() => {
    let map = entriesOf(doc).get(id)!;
    for (let i = 0; i < depth; i++) {
      const inner = new Y.Map<unknown>();
      map.set('x', inner);
      map = inner;
    }
  });
  return syncUpdate(Y.encodeStateAsUpdate(doc, before));
}

async function nesting(): Promise<void> {
  const update = deepNesting(40_000);
  while (!stopping) {
    await sendOnce(plan.sandbox, update);
    count('nesting sent');
    count(`authors ${(await api('GET', `/api/incidents/${plan.work}/authors`)).status}`);
    count(`export-at ${(await api('GET', `/api/incidents/${plan.work}/export?format=json&at=${new Date().toISOString()}`)).status}`);
  }
}

/** The honest users' client IDs, as their presence shows them. */
async function honestClientIds(): Promise<number[]> {
  const ws = await socket(plan.work);
  if (!ws) return [];
  const ids = new Set<number>();
  ws.on('message', (data: Buffer) => {
    const dec = decoding.createDecoder(new Uint8Array(data));
    if (decoding.readVarUint(dec) !== MessageType.awareness) return;
    const update = decoding.createDecoder(decoding.readVarUint8Array(dec));
    for (let n = decoding.readVarUint(update); n > 0; n--) {
      ids.add(decoding.readVarUint(update));
      decoding.readVarUint(update);
      decoding.readVarString(update);
    }
  });
  ws.send(Uint8Array.of(MessageType.queryAwareness));
  await pause(500);
  ws.close();
  return [...ids];
}

async function squatting(): Promise<void> {
  const victims = await honestClientIds();
  count(`victims ${victims.length}`);
  while (!stopping) {
    for (const clientId of victims.length > 0 ? victims : [Math.floor(Math.random() * 2 ** 31)]) {
      const doc = new Y.Doc();
      doc.clientID = clientId;
      doc.getMap('meta').set('title', 'gap'.repeat(100_000));
      const sv = Y.encodeStateVector(doc);
      createEntry(doc, { kind: 'note', title: 'squatted', ranAt: new Date().toISOString() });
      await sendOnce(plan.work, syncUpdate(Y.encodeStateAsUpdate(doc, sv)));
      count('squat sent');
      if (stopping) return;
    }
  }
}

async function presence(): Promise<void> {
  const victims = await honestClientIds();
  const big = { user: { name: 'x' }, pad: 'p'.repeat(PresenceLimits.maxStateBytes - 100) };
  let clock = 0;
  while (!stopping) {
    const ws = await socket(plan.work);
    if (!ws) continue;
    while (!stopping && ws.readyState === WebSocket.OPEN) {
      clock++;
      ws.send(awareness([{ clientId: 424242, clock, state: big }, ...victims.map((clientId) => ({ clientId, clock: 1_000_000 + clock, state: { user: { name: 'forged' } } }))]));
      count('presence sent');
      // As fast as the socket drains: the server's pace, not ours, decides what gets through.
      while (ws.bufferedAmount > 64 * 1024) await pause(1);
      await pause(0);
    }
    ws.terminate();
  }
}

process.on('SIGTERM', () => {
  stopping = true;
  setTimeout(() => {
    process.stdout.write(`${JSON.stringify(counts)}\n`);
    process.exit(0);
  }, 2500);
});

const loops = { redos, nesting, squatting, presence };
await Promise.all(Object.entries(loops).filter(([name]) => !plan.only || plan.only.includes(name)).map(([, loop]) => loop()));
