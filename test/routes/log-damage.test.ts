/**
 * A bit flip in an incident's update log, end to end: entries written through the stock provider,
 * the server stopped, one record mid-log and one near the end damaged on disk, the server restarted.
 * Everything valid after the damage is still served (history, events, authors, export, the live
 * document), nothing acknowledged is cut, and the damage is in the API, the metrics and the log.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { HistoryRecord, IncidentAuthors } from '../../shared/api.js';
import type { HistoryEvents } from '../../shared/history.js';
import type { LogDamage } from '../../shared/log-damage.js';
import { createEntry, listEntries } from '../../shared/schema/doc.js';
import { readRecords } from '../../server/storage/embedded/update-log.js';
import { connect, synced } from '../helpers/collab-client.js';
import { ADMIN_TOKEN, startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer | undefined;
afterAll(() => server?.close());

/** One entry per connection, as a script run per test would write them; resolves once it is saved. */
async function writeEntry(s: TestServer, incidentId: string, token: string, title: string): Promise<void> {
  const client = connect(s.wsUrl, incidentId, token);
  await synced(client);
  createEntry(client.doc, { kind: 'test', title, ranAt: new Date().toISOString(), command: `ping ${title}` });
  await client.saved();
  client.destroy();
}

const get = async <T>(s: TestServer, url: string, token: string): Promise<T> => {
  const res = await s.api('GET', url, { token });
  expect(res.status, url).toBe(200);
  return (await res.json()) as T;
};

describe('a damaged update log', () => {
  it('keeps serving every valid record after the damage, cuts nothing acknowledged, and says so', async () => {
    server = await startTestServer();
    const dataDir = server.dataDir;
    const kim = await server.createUser('responder', 'kim');
    const { id } = await server.createIncident(kim.token);
    const titles = Array.from({ length: 10 }, (_, i) => `test ${i + 1}`);
    for (const title of titles) await writeEntry(server, id, kim.token, title);
    const before = await get<HistoryRecord[]>(server, `/api/incidents/${id}/history`, kim.token);
    await server.close();

    // Which record created which entry, then a bit flipped in one mid-log and in the one before last.
    const dir = path.join(dataDir, 'incidents', id);
    const logFile = path.join(dir, 'updates.log');
    const records: Array<{ seq: number; offset: number }> = [];
    for await (const { record, offset } of readRecords(logFile)) records.push({ seq: record.seq, offset });
    expect(records.map((r) => r.seq)).toEqual(before.map((r) => r.seq));
    const mid = records[Math.floor(records.length / 2)]!;
    const nearEnd = records[records.length - 2]!;
    const log = fs.readFileSync(logFile);
    log[mid.offset + 30]! ^= 0x04;
    log[nearEnd.offset + 30]! ^= 0x04;
    fs.writeFileSync(logFile, log);
    // As if the server had crashed before any checkpoint: loading must read through the damage.
    fs.rmSync(path.join(dir, 'checkpoint.bin'), { force: true });

    server = await startTestServer({ dataDir });
    const errors = vi.spyOn(server.log, 'error');
    const lost = [mid.seq, nearEnd.seq];
    const kept = before.map((r) => r.seq).filter((seq) => !lost.includes(seq));

    // The warning, in the incident's API answer and in the log.
    const incident = await get<{ logDamage?: LogDamage }>(server, `/api/incidents/${id}`, kim.token);
    expect(incident.logDamage).toMatchObject({
      records: 2,
      spans: [
        { afterSeq: mid.seq - 1, nextSeq: mid.seq + 1, offset: mid.offset },
        { afterSeq: nearEnd.seq - 1, nextSeq: nearEnd.seq + 1, offset: nearEnd.offset },
      ],
    });
    const history = await get<HistoryRecord[]>(server, `/api/incidents/${id}/history`, kim.token);
    expect(history.map((r) => r.seq)).toEqual(kept);
    expect(errors.mock.calls.map(([fields]) => fields)).toEqual([
      expect.objectContaining({ incident: id, file: logFile, offset: mid.offset, afterSeq: mid.seq - 1, nextSeq: mid.seq + 1 }),
      expect.objectContaining({ incident: id, file: logFile, offset: nearEnd.offset, afterSeq: nearEnd.seq - 1, nextSeq: nearEnd.seq + 1 }),
    ]);

    // Entries whose records survived, everywhere: the last one was written after both damaged records.
    const client = connect(server.wsUrl, id, kim.token);
    await synced(client);
    const live = listEntries(client.doc).map((e) => e.title);
    client.destroy();
    expect(live).toContain('test 10');
    expect(live).toHaveLength(8);
    const events = await get<HistoryEvents>(server, `/api/incidents/${id}/events`, kim.token);
    const added = events.events.flatMap((e) => e.changes.flatMap((c) => (c.kind === 'entry-added' ? [c.title] : [])));
    expect(added.sort()).toEqual([...live].sort());
    expect(events.seq).toBe(records[records.length - 1]!.seq);
    const authors = await get<IncidentAuthors>(server, `/api/incidents/${id}/authors`, kim.token);
    expect(Object.keys(authors.entries)).toHaveLength(8);
    const exported = await get<{ entries: Array<{ title: string }> }>(server, `/api/incidents/${id}/export?format=json`, kim.token);
    expect(exported.entries.map((e) => e.title).sort()).toEqual([...live].sort());

    // Nothing cut: the log is as it was, and there is no side file.
    expect(fs.statSync(logFile).size).toBe(log.length);
    expect(fs.readdirSync(dir).filter((f) => f.includes('.torn-'))).toEqual([]);

    const metrics = await (await server.api('GET', '/metrics', { token: ADMIN_TOKEN })).text();
    expect(metrics).toContain(`bridgelog_log_damaged_records{incident="${id}"} 2`);

    // New entries go on after the damage, and a torn tail is still cut, into a file only the server reads.
    await writeEntry(server, id, kim.token, 'after the damage');
    await server.close();
    fs.appendFileSync(logFile, Buffer.from([200, 0, 0, 0, 1, 2, 3]));
    server = await startTestServer({ dataDir });
    const again = await get<HistoryRecord[]>(server, `/api/incidents/${id}/history`, kim.token);
    expect(again.map((r) => r.seq)).toEqual([...kept, records[records.length - 1]!.seq + 1]);
    const c2 = connect(server.wsUrl, id, kim.token);
    await synced(c2);
    expect(listEntries(c2.doc).map((e) => e.title)).toContain('after the damage');
    c2.destroy();
    const torn = fs.readdirSync(dir).filter((f) => f.includes('.torn-'));
    expect(torn).toHaveLength(1);
    expect(fs.statSync(path.join(dir, torn[0]!)).mode & 0o777).toBe(0o600);
  });
});
