/** The document schema as every client uses it: entries, hypotheses and verdicts, read back as plain data. */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import {
  createEntry, createHypothesis, entriesOf, entryText, getEntry, listEntries, listHypotheses, metaOf, readMeta, setHypothesisStatus, setVerdict, updateEntry,
} from '../../shared/schema/doc.js';

describe('document schema v1', () => {
  it('creates an entry with collaborative text fields and reads it back', () => {
    const doc = new Y.Doc();
    const id = createEntry(doc, { kind: 'test', title: 'iperf3 ny→db01', ranAt: '2026-03-04T06:20:00.000Z', command: 'iperf3 -c db01 -u -b 900M', observations: '**12%** loss' });
    entryText(doc, id, 'conclusion')!.insert(0, 'Loss appears only above 800 Mbit/s');
    expect(getEntry(doc, id)).toEqual({
      id, kind: 'test', title: 'iperf3 ny→db01', ranAt: '2026-03-04T06:20:00.000Z',
      command: 'iperf3 -c db01 -u -b 900M', observations: '**12%** loss', conclusion: 'Loss appears only above 800 Mbit/s',
      attachments: [], links: [], alerts: [], hypotheses: {},
    });
    expect(entriesOf(doc).get(id)!.get('command')).toBeInstanceOf(Y.Text);
  });

  it('lists entries by when they were run, not when they were logged', () => {
    const doc = new Y.Doc();
    createEntry(doc, { kind: 'test', title: 'second', ranAt: '2026-03-04T06:30:00.000Z' });
    createEntry(doc, { kind: 'test', title: 'first (back-filled)', ranAt: '2026-03-04T06:10:00.000Z' });
    expect(listEntries(doc).map((e) => e.title)).toEqual(['first (back-filled)', 'second']);
  });

  it('corrects an entry’s kind, title and run time in one change, and moves it in the log', () => {
    const doc = new Y.Doc();
    const ping = createEntry(doc, { kind: 'note', title: 'ping', ranAt: '2026-03-04T06:30:00.000Z' });
    createEntry(doc, { kind: 'test', title: 'mtr', ranAt: '2026-03-04T06:20:00.000Z' });
    let changes = 0;
    doc.on('update', () => changes++);
    updateEntry(doc, ping, { kind: 'test', title: 'ping db01', ranAt: '2026-03-04T06:10:00.000Z' });
    expect(changes).toBe(1);
    expect(listEntries(doc).map((e) => [e.kind, e.title])).toEqual([['test', 'ping db01'], ['test', 'mtr']]);
    expect(() => updateEntry(doc, 'nope', { title: 'x' })).toThrow('no entry nope');
  });

  it('tracks hypotheses and which tests support or refute them', () => {
    const doc = new Y.Doc();
    const h = createHypothesis(doc, '1 ms microbursts saturate Gi1/0/12');
    const e = createEntry(doc, { kind: 'test', title: '1 ms IO graph of capture', ranAt: '2026-03-04T06:40:00.000Z' });
    setVerdict(doc, e, h, 'supports');
    setHypothesisStatus(doc, h, 'supported');
    expect(listHypotheses(doc)).toEqual([{ id: h, statement: '1 ms microbursts saturate Gi1/0/12', status: 'supported' }]);
    expect(getEntry(doc, e)!.hypotheses).toEqual({ [h]: 'supports' });
    setVerdict(doc, e, h, null);
    expect(getEntry(doc, e)!.hypotheses).toEqual({});
  });

  it('reads leniently what another client wrote oddly, instead of failing', () => {
    const doc = new Y.Doc();
    const odd = new Y.Map<unknown>();
    odd.set('kind', 'rant');
    odd.set('title', 42);
    entriesOf(doc).set('odd', odd);
    expect(getEntry(doc, 'odd')).toMatchObject({ kind: 'note', title: '', command: '', attachments: [] });

    // Mistyped items and meta values are left out, so what is read always has the schema's types.
    const id = createEntry(doc, { kind: 'test', title: 't', ranAt: '2026-03-04T06:30:00.000Z' });
    const entry = entriesOf(doc).get(id)!;
    (entry.get('attachments') as Y.Array<unknown>).push(['a1', 42]);
    (entry.get('links') as Y.Array<unknown>).push(['https://x', { url: 'https://g/1', label: 'graph', extra: true }, { url: 5 }]);
    (entry.get('hypotheses') as Y.Map<unknown>).set('h1', 'maybe');
    (entry.get('hypotheses') as Y.Map<unknown>).set('h2', 'refutes');
    expect(getEntry(doc, id)).toMatchObject({ attachments: ['a1'], links: [{ url: 'https://g/1', label: 'graph' }], hypotheses: { h2: 'refutes' } });
    expect(getEntry(doc, id)!.links[0]).toEqual({ url: 'https://g/1', label: 'graph' });
    doc.transact(() => {
      metaOf(doc).set('title', 42);
      metaOf(doc).set('severity', 'sev9');
      metaOf(doc).set('status', 'resolved');
    });
    expect(readMeta(doc)).toEqual({ status: 'resolved' });
  });
});
