/**
 * What the timeline shows, from what an incident page has: entries by when they were run (marked
 * back-filled when logged much later), conclusions, alert firings, capture spans, verdicts and
 * status changes from the event index, and the filters over them.
 */
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../shared/alerts.js';
import type { HistoryEvent } from '../../shared/history.js';
import type { EntryAuthorship } from '../../shared/model.js';
import type { Entry } from '../../shared/schema/doc.js';
import { firingSpans, mergeEvents, passes, timelineItems, TimelineKinds, type TimelineSources } from '../../client/src/timeline/timeline-items.js';

const at = (iso: string) => Date.parse(iso);
const kim = { id: 'u-kim', name: 'kim' };
const lee = { id: 'u-lee', name: 'lee' };

const entry = (id: string, ranAt: string, more: Partial<Entry> = {}): Entry => ({
  id, kind: 'test', title: id, ranAt, command: '', observations: '', conclusion: '', attachments: [], links: [], alerts: [], hypotheses: {}, ...more,
});
const by = (user: typeof kim, loggedAt: string): EntryAuthorship => ({ createdBy: user, loggedAt, editors: [] });
const event = (seq: number, at: string, userId: string, changes: HistoryEvent['changes']): HistoryEvent => ({ seq, toSeq: seq, at, toAt: at, userId, changes });
const alert = (id: string, transitions: Array<['firing' | 'resolved', string]>): Alert => ({
  id, fingerprint: id, status: transitions.at(-1)![0], title: `alert ${id}`, labels: {}, annotations: {}, startsAt: transitions[0]![1], endsAt: null,
  source: 'generic', url: null, transitions: transitions.map(([status, t]) => ({ status, at: t, receivedAt: t })), incidents: ['i1'], links: [],
});

function sources(more: Partial<TimelineSources> = {}): TimelineSources {
  return {
    entries: [
      entry('ping gw', '2026-03-04T06:00:00.000Z', { hypotheses: { h1: 'refutes' } }),
      entry('iperf3 db01', '2026-03-04T06:20:00.000Z', { conclusion: 'Uplink saturates at 940 Mbit/s\nsee graph', alerts: ['a1'] }),
      entry('traceroute', '2026-03-04T05:30:00.000Z', { kind: 'note' }),
      entry('not a switch bug', '2026-03-04T06:40:00.000Z', { kind: 'conclusion', conclusion: 'it is the uplink' }),
    ],
    authors: new Map([
      ['ping gw', by(kim, '2026-03-04T06:01:00.000Z')],
      ['iperf3 db01', by(lee, '2026-03-04T06:22:00.000Z')],
      ['traceroute', by(kim, '2026-03-04T06:45:00.000Z')], // written up 75 minutes after it ran
      ['not a switch bug', by(lee, '2026-03-04T06:41:00.000Z')],
    ]),
    alerts: [alert('a1', [['firing', '2026-03-04T06:10:00.000Z'], ['resolved', '2026-03-04T06:30:00.000Z'], ['firing', '2026-03-04T06:50:00.000Z']])],
    captures: [{ attachmentId: 'f1', name: 'uplink.pcap', entryId: 'iperf3 db01', firstPacketAt: '2026-03-04T06:19:58.120Z', lastPacketAt: '2026-03-04T06:20:31.004Z' }],
    events: [
      event(1, '2026-03-04T05:59:00.000Z', kim.id, [{ kind: 'incident', field: 'status', value: 'investigating' }, { kind: 'incident', field: 'title', value: 'Packet loss' }]),
      event(2, '2026-03-04T06:05:00.000Z', kim.id, [{ kind: 'hypothesis-added', hypothesis: 'h1', statement: 'switch stack bug', status: 'open' }]),
      event(9, '2026-03-04T06:35:00.000Z', lee.id, [{ kind: 'verdict', hypothesis: 'h1', statement: 'switch stack bug', status: 'ruled-out' }]),
      event(10, '2026-03-04T06:55:00.000Z', kim.id, [{ kind: 'incident', field: 'status', value: 'monitoring' }]),
    ],
    hypotheses: [{ id: 'h1', statement: 'switch stack bug', status: 'ruled-out' }],
    now: at('2026-03-04T07:00:00.000Z'),
    ...more,
  };
}

const summary = (items: ReturnType<typeof timelineItems>) => items.map((i) => `${new Date(i.start).toISOString().slice(11, 19)} ${i.kind} ${i.label}`);

describe('timeline items', () => {
  it('places everything on one UTC axis, oldest first', () => {
    expect(summary(timelineItems(sources()))).toEqual([
      '05:30:00 note traceroute',
      '05:59:00 status investigating',
      '06:00:00 test ping gw',
      '06:05:00 verdict switch stack bug: open',
      '06:10:00 alert alert a1',
      '06:19:58 capture uplink.pcap',
      '06:20:00 conclusion Uplink saturates at 940 Mbit/s',
      '06:20:00 test iperf3 db01',
      '06:35:00 verdict switch stack bug: ruled-out',
      '06:40:00 conclusion not a switch bug',
      '06:50:00 alert alert a1',
      '06:55:00 status monitoring',
    ]);
  });

  it('marks an entry logged more than ten minutes after it ran as back-filled, keeping both times', () => {
    const items = timelineItems(sources());
    expect(items.find((i) => i.id === 'traceroute')).toMatchObject({ start: at('2026-03-04T05:30:00Z'), recordedAt: at('2026-03-04T06:45:00Z'), author: kim.id });
    expect(items.find((i) => i.id === 'iperf3 db01')!.recordedAt).toBeUndefined(); // two minutes is logging as you go
  });

  it('dates a conclusion by when it was written, when that was long after the test', () => {
    const later = sources({ events: [event(12, '2026-03-04T08:00:00.000Z', lee.id, [{ kind: 'entry-changed', entry: 'iperf3 db01', fields: ['conclusion'] }])] });
    const conclusion = timelineItems(later).find((i) => i.id === 'conclusion:iperf3 db01')!;
    expect(conclusion).toMatchObject({ kind: 'conclusion', start: at('2026-03-04T06:20:00Z'), recordedAt: at('2026-03-04T08:00:00Z'), entryId: 'iperf3 db01' });
  });

  it('draws each firing of an alert as a bar, still going when it has not resolved, opening the entry linked to it', () => {
    const bars = timelineItems(sources()).filter((i) => i.kind === 'alert');
    expect(bars).toMatchObject([
      { start: at('2026-03-04T06:10:00Z'), end: at('2026-03-04T06:30:00Z'), state: 'resolved', entryId: 'iperf3 db01' },
      { start: at('2026-03-04T06:50:00Z'), end: at('2026-03-04T07:00:00Z'), ongoing: true, state: 'firing' },
    ]);
    // A repeated "firing" from the sender is the same firing.
    expect(firingSpans(alert('a2', [['firing', '2026-03-04T06:00:00Z'], ['firing', '2026-03-04T06:05:00Z'], ['resolved', '2026-03-04T06:09:00Z']]))).toEqual([
      { start: at('2026-03-04T06:00:00Z'), end: at('2026-03-04T06:09:00Z') },
    ]);
  });

  it('spans a capture from its first packet to its last, and opens a verdict on the evidence for it', () => {
    const items = timelineItems(sources());
    expect(items.find((i) => i.kind === 'capture')).toMatchObject({ end: at('2026-03-04T06:20:31.004Z'), entryId: 'iperf3 db01', author: lee.id });
    expect(items.find((i) => i.label === 'switch stack bug: ruled-out')).toMatchObject({ state: 'ruled-out', author: lee.id, entryId: 'ping gw', hypotheses: ['h1'] });
  });
});

describe('milestones on the timeline (#18)', () => {
  it('puts each milestone at the time it names, labelled, standard ones by name and the team’s own as custom; unreadable times left out', () => {
    const items = timelineItems(
      sources({ milestones: { impactStarted: '2026-03-04T05:50:00.000Z', mitigated: '2026-03-04T06:42:00.000Z', 'customers notified': '2026-03-04T06:15:00.000Z', detected: 'soon' } }),
    ).filter((i) => i.kind === 'milestone');
    expect(items.map((i) => [new Date(i.start).toISOString().slice(11, 19), i.label, i.state])).toEqual([
      ['05:50:00', 'Impact started', 'impactStarted'],
      ['06:15:00', 'customers notified', 'custom'],
      ['06:42:00', 'Mitigated', 'mitigated'],
    ]);
    expect(items.every((i) => i.entryId === undefined && i.end === undefined)).toBe(true);
    expect(passes(items[0]!, { kinds: new Set(TimelineKinds.filter((k) => k !== 'milestone')) })).toBe(false);
  });
});

describe('timeline filters', () => {
  const items = timelineItems(sources());
  const all = new Set(TimelineKinds);
  const shown = (filter: Parameters<typeof passes>[1]) => items.filter((i) => passes(i, filter)).map((i) => i.id);

  it('keeps only the kinds asked for', () => {
    expect(shown({ kinds: new Set(['alert', 'status'] as const) })).toEqual(['event:1:0', 'alert:a1:0', 'alert:a1:1', 'event:10:0']);
  });

  it('keeps what one person did', () => {
    expect(shown({ kinds: all, author: lee.id })).toEqual(['capture:iperf3 db01:f1', 'conclusion:iperf3 db01', 'iperf3 db01', 'event:9:0', 'not a switch bug']);
  });

  it('keeps what bears on a hypothesis, or on an alert', () => {
    expect(shown({ kinds: all, hypothesis: 'h1' })).toEqual(['ping gw', 'event:2:0', 'event:9:0']);
    expect(shown({ kinds: all, alert: 'a1' })).toEqual(['alert:a1:0', 'capture:iperf3 db01:f1', 'conclusion:iperf3 db01', 'iperf3 db01', 'alert:a1:1']);
  });
});

describe('the event index as it grows', () => {
  it('takes what came since, replacing the last event when the answer extends it', () => {
    const known = [event(1, '2026-03-04T06:00:00Z', kim.id, []), event(4, '2026-03-04T06:01:00Z', kim.id, [])];
    const extended = { ...event(4, '2026-03-04T06:01:00Z', kim.id, []), toSeq: 6 };
    expect(mergeEvents(known, [extended, event(7, '2026-03-04T06:02:00Z', lee.id, [])]).map((e) => [e.seq, e.toSeq])).toEqual([[1, 1], [4, 6], [7, 7]]);
    expect(mergeEvents(known, [])).toEqual(known);
  });
});
