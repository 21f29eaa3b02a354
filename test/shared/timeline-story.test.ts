/**
 * The timeline items the web app and the exports share (shared/timeline.ts, #16): a severity change
 * is an item (the severity declared with the incident is not: the declaration is there already), and
 * files attached to entries are placed at their upload, by who uploaded them.
 */
import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../../shared/history.js';
import type { Entry } from '../../shared/schema/doc.js';
import { timelineItems } from '../../shared/timeline.js';

const entry: Entry = { id: 'e1', kind: 'test', title: 'ping gw', ranAt: '2026-03-04T06:00:00.000Z', command: '', observations: '', conclusion: '', attachments: ['f1', 'f2'], links: [], alerts: [], hypotheses: {} };
const event = (seq: number, at: string, changes: HistoryEvent['changes']): HistoryEvent => ({ seq, toSeq: seq, at, toAt: at, userId: 'u-kim', changes });

describe('shared timeline items', () => {
  it('lists severity changes after the declared one, and attached files at their upload', () => {
    const items = timelineItems({
      entries: [entry],
      authors: new Map(),
      alerts: [],
      captures: [],
      hypotheses: [],
      now: Date.parse('2026-03-04T07:00:00.000Z'),
      events: [
        event(1, '2026-03-04T05:59:00.000Z', [{ kind: 'incident', field: 'severity', value: 'sev3' }, { kind: 'incident', field: 'status', value: 'investigating' }]),
        event(2, '2026-03-04T06:10:00.000Z', [{ kind: 'incident', field: 'severity', value: 'sev1' }]),
      ],
      attachments: [
        { attachmentId: 'f1', name: 'counters.txt', entryId: 'e1', uploadedAt: '2026-03-04T06:05:00.000Z', uploadedBy: 'u-lee' },
        { attachmentId: 'f3', name: 'elsewhere.txt', entryId: 'no-such-entry', uploadedAt: '2026-03-04T06:06:00.000Z' },
      ],
    });
    expect(items.filter((i) => i.kind === 'status').map((i) => i.label)).toEqual(['investigating', 'severity sev1']);
    expect(items.filter((i) => i.kind === 'attachment')).toEqual([
      { id: 'attachment:e1:f1', kind: 'attachment', start: Date.parse('2026-03-04T06:05:00.000Z'), label: 'counters.txt', entryId: 'e1', author: 'u-lee', hypotheses: [], alerts: [] },
    ]);
  });
});
