/**
 * What every search engine must do (server/search/search-engine.ts), run against the embedded
 * MiniSearch index and PostgreSQL full-text search alike: the same records in, the same things found.
 */
import { describe, expect, it } from 'vitest';
import { parseQuery } from '../../shared/search.js';
import type { IndexedIncident, SearchDoc } from '../../server/search/search-documents.js';
import type { SearchEngine } from '../../server/search/search-engine.js';

let made = 0;

function entry(incidentId: string, id: string, title: string, body = '', extra: Partial<SearchDoc> = {}): SearchDoc {
  return { id: `${incidentId}/entry/${id}`, incidentId, kind: 'test', entryId: id, title, body, at: '2026-10-03T04:00:00.000Z', ...extra };
}

function incident(docs: (id: string) => SearchDoc[], extra: Partial<IndexedIncident> = {}): IndexedIncident {
  const incidentId = `inc${++made}x${Math.random().toString(36).slice(2, 8)}`;
  return { incidentId, seq: 1, docs: docs(incidentId), labels: [], ...extra };
}

const ids = (r: { hits: Array<{ doc: SearchDoc }> }) => r.hits.map((h) => h.doc.id);

export function describeSearchEngineContract(name: string, open: () => Promise<SearchEngine>): void {
  describe(`search engine contract: ${name}`, () => {
    const search = (engine: SearchEngine, query: string, incidents: IndexedIncident[], limit = 20) =>
      engine.search(parseQuery(query), { incidents: new Set(incidents.map((i) => i.incidentId)) }, limit);

    it('finds records holding every word, the best match (in the title) first, and counts them', async () => {
      const engine = await open();
      const a = incident((i) => [
        entry(i, 'e1', 'BGP session flap on ny-edge1', 'show bgp summary\nneighbour 192.0.2.1 went down'),
        entry(i, 'e2', 'Checked optics', 'bgp looks fine here, no flap seen on the optics'),
        entry(i, 'e3', 'DNS resolution', 'dig example.com'),
      ]);
      await engine.put(a);
      const found = await search(engine, 'bgp flap', [a]);
      expect(ids(found)).toEqual([`${a.incidentId}/entry/e1`, `${a.incidentId}/entry/e2`]);
      expect(found.total).toBe(2);
      expect(found.hits[0]!.score).toBeGreaterThan(found.hits[1]!.score);
      expect(ids(await search(engine, 'bgp flap', [a], 1))).toEqual([`${a.incidentId}/entry/e1`]);
      expect((await search(engine, 'bgp flap', [a], 1)).total).toBe(2);
      expect(ids(await search(engine, 'kerberos', [a]))).toEqual([]);
    });

    it('reads phrases literally, leaves out -excluded words, and matches the last word as a prefix', async () => {
      const engine = await open();
      const a = incident((i) => [
        entry(i, 'p1', 'Carrier says', 'concluded: carrier maintenance on the ny circuit'),
        entry(i, 'p2', 'Maintenance window', 'our maintenance, not the carrier'),
      ]);
      await engine.put(a);
      expect(ids(await search(engine, '"carrier maintenance"', [a]))).toEqual([`${a.incidentId}/entry/p1`]);
      expect(ids(await search(engine, 'carrier -circuit', [a]))).toEqual([`${a.incidentId}/entry/p2`]);
      expect(ids(await search(engine, 'carrier -"carrier maintenance"', [a]))).toEqual([`${a.incidentId}/entry/p2`]);
      expect(new Set(ids(await search(engine, 'maint', [a])))).toEqual(new Set([`${a.incidentId}/entry/p1`, `${a.incidentId}/entry/p2`]));
    });

    it('finds hosts and addresses whole and by their parts', async () => {
      const engine = await open();
      const a = incident((i) => [entry(i, 'h1', 'ping ny-edge1.example.net', 'from 10.20.30.40: 100% loss'), entry(i, 'h2', 'unrelated', '10 packets')]);
      await engine.put(a);
      for (const q of ['ny-edge1.example.net', 'edge1', '10.20.30.40', 'ny-edge1']) {
        expect(ids(await search(engine, q, [a])), q).toEqual([`${a.incidentId}/entry/h1`]);
      }
    });

    it('looks only at the incidents in scope: nothing else is returned or counted', async () => {
      const engine = await open();
      const open1 = incident((i) => [entry(i, 'o1', 'tcpdump on ny-sw01')]);
      const secret = incident((i) => [entry(i, 's1', 'tcpdump on the compromised host'), entry(i, 's2', 'tcpdump again')], { restricted: true });
      await engine.put(open1);
      await engine.put(secret);
      const outsider = await search(engine, 'tcpdump', [open1]);
      expect(ids(outsider)).toEqual([`${open1.incidentId}/entry/o1`]);
      expect(outsider.total).toBe(1);
      const member = await search(engine, 'tcpdump', [open1, secret]);
      expect(member.total).toBe(3);
      expect(await engine.similar({ words: ['tcpdump', 'compromised'], kinds: ['test'] }, { incidents: new Set([open1.incidentId]) }, 10)).toHaveLength(1);
      // Opening the incident moves its records where everyone's searches look.
      await engine.put({ ...secret, seq: 2, restricted: false });
      expect((await search(engine, 'tcpdump', [open1, secret])).total).toBe(3);
    });

    it('filters by kind, time and alert labels', async () => {
      const engine = await open();
      const ny = incident(
        (i) => [
          entry(i, 'k1', 'packet loss', '', { at: '2026-10-01T10:00:00.000Z' }),
          entry(i, 'k2', 'packet loss again', '', { kind: 'conclusion', at: '2026-10-05T10:00:00.000Z' }),
        ],
        { labels: ['site=ny', 'alertname=packetloss'] },
      );
      const sf = incident((i) => [entry(i, 'k3', 'packet loss in sf', '', { at: '2026-10-02T10:00:00.000Z' })], { labels: ['site=sf'] });
      await engine.put(ny);
      await engine.put(sf);
      const both = [ny, sf];
      expect((await search(engine, 'packet', both)).total).toBe(3);
      expect(ids(await search(engine, 'packet kind:conclusion', both))).toEqual([`${ny.incidentId}/entry/k2`]);
      expect(new Set(ids(await search(engine, 'packet site:ny', both)))).toEqual(new Set([`${ny.incidentId}/entry/k1`, `${ny.incidentId}/entry/k2`]));
      expect(ids(await search(engine, 'packet from:2026-10-02 to:2026-10-02', both))).toEqual([`${sf.incidentId}/entry/k3`]);
      // A label alone is a query.
      expect((await search(engine, 'site:sf', both)).total).toBe(1);
    });

    it('replaces an incident with a newer reading only, drops records that went, and forgets it', async () => {
      const engine = await open();
      const a = incident((i) => [entry(i, 'r1', 'first reading'), entry(i, 'r2', 'deleted later')], { seq: 5 });
      await engine.put(a);
      await engine.put({ ...a, seq: 4, docs: [entry(a.incidentId, 'r1', 'stale reading')] });
      expect((await search(engine, 'stale', [a])).total).toBe(0);
      await engine.put({ ...a, seq: 6, docs: [entry(a.incidentId, 'r1', 'second reading')] });
      expect((await search(engine, 'reading', [a])).hits.map((h) => h.doc.title)).toEqual(['second reading']);
      expect((await search(engine, 'deleted', [a])).total).toBe(0);
      // The same seq again (its alerts changed): replaced.
      await engine.put({ ...a, seq: 6, docs: [entry(a.incidentId, 'r1', 'third reading')], conclusion: 'it was dns' });
      const third = await search(engine, 'reading', [a]);
      expect(third.hits.map((h) => [h.doc.title, h.incidentConclusion])).toEqual([['third reading', 'it was dns']]);
      expect((await engine.indexedSeqs()).get(a.incidentId)).toBe(6);
      await engine.remove(a.incidentId);
      expect((await search(engine, 'reading', [a])).total).toBe(0);
      expect((await engine.indexedSeqs()).has(a.incidentId)).toBe(false);
    });

    it('offers records sharing any word for "seen before", of the kinds asked for', async () => {
      const engine = await open();
      const old = incident((i) => [
        entry(i, 's1', 'BGP flap ny-edge1', 'show bgp neighbors', { conclusion: 'carrier maintenance' }),
        entry(i, 's2', 'Checked power', 'all fine'),
        { id: `${i}/hypothesis/h1`, incidentId: i, kind: 'hypothesis', hypothesisId: 'h1', title: 'BGP flap by carrier', body: 'open', at: '2026-10-03T04:00:00.000Z' },
      ]);
      await engine.put(old);
      const found = await engine.similar({ words: ['flap', 'ny-edge1', 'unrelated'], kinds: ['test'] }, { incidents: new Set([old.incidentId]) }, 10);
      expect(found.map((h) => h.doc.id)).toEqual([`${old.incidentId}/entry/s1`]);
      expect(found[0]!.doc.conclusion).toBe('carrier maintenance');
    });

    it('takes any characters as literal words: nothing the reader types changes the query', async () => {
      const engine = await open();
      const a = incident((i) => [entry(i, 'x1', "it's a (weird) name: a&b|c!d \\ 'quoted' ñandú 東京", 'x')]);
      await engine.put(a);
      for (const q of ["it's", 'a&b|c!d', '(weird)', '\\', "'quoted'", 'ñandú', '東京', ':*', '.*', '"a&b']) {
        const words = (() => {
          try {
            return parseQuery(q);
          } catch {
            return undefined;
          }
        })();
        if (!words) continue;
        await expect(engine.search(words, { incidents: new Set([a.incidentId]) }, 5), q).resolves.toBeDefined();
      }
      expect(ids(await search(engine, 'ñandú', [a]))).toEqual([`${a.incidentId}/entry/x1`]);
      expect(ids(await search(engine, 'weird', [a]))).toEqual([`${a.incidentId}/entry/x1`]);
      // Phrases with characters that mean something in a pattern are still literal.
      expect(ids(await search(engine, '"(weird)   NAME: a&b|c!d"', [a]))).toEqual([`${a.incidentId}/entry/x1`]);
      expect(ids(await search(engine, '"(weird).*name"', [a]))).toEqual([]);
      expect(ids(await search(engine, 'weird -"a&b|c"', [a]))).toEqual([]);
    });
  });
}
