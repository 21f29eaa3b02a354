/**
 * A packet capture on an entry: its analysis as it runs (live progress over the app events), then
 * what a responder checks first — how much, how long, when (UTC), the peak 1 ms rate against the
 * link's capacity, the top conversations — and the IO graph at 1 s or down to 1 ms.
 */
import { lazy, Suspense, useCallback, useEffect, useState } from 'react';
import { api } from '../api';
import type { AttachmentInfo } from '../evidence/attachment-shelf';
import type { AnalysisState, CaptureAnalysis, IoView } from '../evidence/capture-analysis';
import { useEvidence } from '../evidence/incident-evidence';
import { formatBytes, formatMbps, mbitPerSecond } from '../numbers';
import { useStore } from '../store';
import { CapacityPicker, useCapacity } from './CapacityPicker';
import { fileUrl } from './ImageViewer';

const IoGraph = lazy(() => import('./IoGraph').then((m) => ({ default: m.IoGraph })));

interface Props {
  capture: AttachmentInfo;
  onRemove: (() => void) | undefined;
}

/** Capture times to the millisecond: bursts are that short. */
const formatUtcMs = (iso: string | null) => (iso ? `${iso.replace('T', ' ').slice(0, 23)}Z` : '—');

const formatDuration = (ms: number) => (ms < 1000 ? `${ms.toFixed(1)} ms` : `${(ms / 1000).toFixed(3)} s`);

const bucketName = (ms: number) => (ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`);

/**
 * Drawing millions of 1 ms points is slow: a capture longer than this opens on the 1 s view, and its
 * 1 ms view is the minute around its worst millisecond.
 */
const MAX_POINTS_FIRST = 200_000;
const WINDOW_MS = 60_000;

/** The widest stretch of 1 ms buckets the server gives at once (`/io`): ten minutes. */
const MAX_WINDOW_MS = 600_000;

interface FineWindow {
  fromMs: number;
  toMs: number;
  /** The whole capture, the minute around its worst millisecond, or a stretch the responder dragged across. */
  why: 'whole' | 'worst' | 'chosen';
}

/** Which 1 ms buckets to show: all of a short capture, the minute around the worst one of a long one. */
function fineWindow(analysis: CaptureAnalysis): FineWindow {
  const { buckets, views } = analysis.ioGraph;
  if (buckets <= MAX_POINTS_FIRST) return { fromMs: 0, toMs: Math.max(1, buckets), why: 'whole' };
  // The worst millisecond over capacity, or else the middle of the busiest second.
  let center = analysis.bursts.worst[0]?.offsetMs;
  if (center === undefined) {
    const seconds = views.find((v) => v.bucketMs === 1000)?.bytes ?? [];
    center = seconds.reduce((best, b, i) => (b > seconds[best]! ? i : best), 0) * 1000 + 500;
  }
  const fromMs = Math.max(0, Math.min(center - WINDOW_MS / 2, buckets - WINDOW_MS));
  return { fromMs, toMs: fromMs + WINDOW_MS, why: 'worst' };
}

/** The 1 ms buckets of a window, once asked for. */
function useFineView(captureId: string, { fromMs, toMs }: FineWindow, wanted: boolean): IoView | 'failed' | undefined {
  const [view, setView] = useState<IoView | 'failed'>();
  useEffect(() => {
    if (!wanted) return;
    let current = true;
    api<IoView>('GET', `/api/attachments/${encodeURIComponent(captureId)}/io?fromMs=${fromMs}&toMs=${toMs}`).then(
      (answer) => current && setView(answer),
      () => current && setView('failed'),
    );
    return () => {
      current = false;
    };
  }, [captureId, fromMs, toMs, wanted]);
  return view;
}

function useAnalysis(capture: AttachmentInfo, capacityBps: number | undefined): AnalysisState | { status: 'unavailable'; error: string } | undefined {
  const live = useStore(useEvidence().attachments.analyses).get(capture.id);
  const [state, setState] = useState<AnalysisState | { status: 'unavailable'; error: string }>();
  const finished = live?.status === 'done' || live?.status === 'failed';
  useEffect(() => {
    let current = true;
    const capacity = capacityBps ? `&capacityBps=${capacityBps}` : '';
    api<AnalysisState>('GET', `/api/attachments/${encodeURIComponent(capture.id)}/analysis?views=coarse${capacity}`).then(
      (answer) => current && setState(answer),
      (err: Error) => current && setState({ status: 'unavailable', error: err.message }),
    );
    return () => {
      current = false;
    };
  }, [capture.id, finished, capacityBps]);
  // Live progress is newer than a fetched "pending" or "running".
  if (live && !finished && (!state || state.status === 'pending' || state.status === 'running')) {
    return live.status === 'running' ? { status: 'running', bytesRead: live.bytesRead ?? 0, totalBytes: live.totalBytes ?? capture.size } : { status: 'pending' };
  }
  return state;
}

export function CaptureView({ capture, onRemove }: Props) {
  const [capacityBps, setCapacityBps] = useCapacity(capture.id);
  const state = useAnalysis(capture, capacityBps);
  return (
    <section className="capture" aria-label={`Capture ${capture.name}`}>
      <header className="capture-header">
        <a href={fileUrl(capture.id)} download={capture.name}>
          {capture.name}
        </a>
        <span className="hint">{formatBytes(capture.size)}</span>
        {onRemove && (
          <button type="button" className="quiet small unlink" aria-label={`Remove ${capture.name} from this entry`} onClick={onRemove}>
            ×
          </button>
        )}
      </header>
      {!state || state.status === 'pending' ? (
        <p className="hint capture-progress">Waiting to be analyzed…</p>
      ) : state.status === 'running' ? (
        <p className="hint capture-progress">
          Analyzing: <progress max={state.totalBytes} value={state.bytesRead} /> {formatBytes(state.bytesRead)} of {formatBytes(state.totalBytes)}
        </p>
      ) : state.status === 'done' ? (
        <CaptureSummary captureId={capture.id} analysis={state} onCapacity={setCapacityBps} />
      ) : state.status === 'failed' ? (
        // Said loudly: a capture nobody can read must not pass for an empty one.
        <p className="capture-unreadable" role="alert">
          <strong>This capture could not be read.</strong> {state.error}. Nothing about its traffic is known; download it to look at it with Wireshark.
        </p>
      ) : (
        <p className="error-text">The analysis could not be loaded: {state.error}</p>
      )}
    </section>
  );
}

/** Warnings that mean the file is damaged (as opposed to notes about a healthy one). */
const DAMAGE = /truncated|corrupt|damaged|claims \d+ captured bytes|never described/i;

function CaptureSummary({ captureId, analysis, onCapacity }: { captureId: string; analysis: CaptureAnalysis; onCapacity: (bps: number) => void }) {
  if (analysis.packets === 0) {
    return (
      <div className="capture-unreadable" role="alert">
        <p>
          <strong>No packets could be read from this capture.</strong> It is empty or damaged: no rates, times or bursts can be told from it.
        </p>
        {analysis.warnings.map((w) => <p key={w}>⚠ {w}</p>)}
      </div>
    );
  }
  return <CaptureFacts captureId={captureId} analysis={analysis} onCapacity={onCapacity} />;
}

function CaptureFacts({ captureId, analysis, onCapacity }: { captureId: string; analysis: CaptureAnalysis; onCapacity: (bps: number) => void }) {
  const damage = analysis.warnings.filter((w) => DAMAGE.test(w));
  const notes = analysis.warnings.filter((w) => !DAMAGE.test(w));
  const { ioGraph, bursts } = analysis;
  const [chosen, setChosen] = useState<FineWindow>();
  const window = chosen ?? fineWindow(analysis);
  const [bucketMs, setBucketMs] = useState(window.why === 'whole' ? 1 : 1000);
  const fine = useFineView(captureId, window, bucketMs === 1);
  // Dragging across a coarser view of a long capture shows that stretch at 1 ms (up to ten minutes).
  const long = ioGraph.buckets > MAX_POINTS_FIRST;
  const onSelectRange = useCallback(
    (fromS: number, toS: number) => {
      const fromMs = Math.max(0, Math.min(Math.floor(fromS * 1000), ioGraph.buckets - 1));
      const toMs = Math.min(ioGraph.buckets, fromMs + MAX_WINDOW_MS, Math.max(fromMs + 1, Math.ceil(toS * 1000)));
      setChosen({ fromMs, toMs, why: 'chosen' });
      setBucketMs(1);
    },
    [ioGraph.buckets],
  );
  const buckets = [...ioGraph.views.map((v) => v.bucketMs), 1].sort((a, b) => b - a);
  const view = bucketMs === 1 ? (typeof fine === 'object' ? fine : undefined) : ioGraph.views.find((v) => v.bucketMs === bucketMs);
  const capacityMbps = mbitPerSecond(bursts.capacityBytesPerMs, 1);
  const peakMbps = mbitPerSecond(ioGraph.peakBytes, 1);
  return (
    <>
      {damage.length > 0 && (
        <div className="capture-unreadable" role="alert">
          <p><strong>This capture is damaged: what follows covers only the part that could be read.</strong></p>
          {damage.map((w) => <p key={w}>⚠ {w}</p>)}
        </div>
      )}
      <dl className="capture-facts">
        <div>
          <dt>Packets</dt>
          <dd>{analysis.packets.toLocaleString('en')}</dd>
        </div>
        <div>
          <dt>Bytes</dt>
          <dd>{formatBytes(analysis.bytes)}</dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd>{formatDuration(analysis.durationMs)}</dd>
        </div>
        <div>
          <dt>Average</dt>
          <dd>{formatMbps(analysis.averageBitsPerSecond / 1e6)}</dd>
        </div>
        <div>
          <dt>First packet</dt>
          <dd className="mono">{formatUtcMs(analysis.firstPacketAt)}</dd>
        </div>
        <div>
          <dt>Last packet</dt>
          <dd className="mono">{formatUtcMs(analysis.lastPacketAt)}</dd>
        </div>
        <div className={peakMbps > capacityMbps ? 'over-capacity' : undefined}>
          <dt>Peak 1 ms</dt>
          <dd>
            {formatMbps(peakMbps)} <span className="hint">of {formatMbps(capacityMbps)}</span>
          </dd>
        </div>
        <div className={bursts.msOverCapacity > 0 ? 'over-capacity' : undefined}>
          <dt>Over capacity</dt>
          <dd>{bursts.msOverCapacity.toLocaleString('en')} ms</dd>
        </div>
      </dl>
      <CapacityPicker bps={bursts.capacityBytesPerMs * 8 * 1000} onChange={onCapacity} />
      <div className="io-graph-toolbar" role="group" aria-label="IO graph bucket">
        {buckets.map((ms) => (
          <button key={ms} type="button" className="quiet small" aria-pressed={ms === bucketMs} onClick={() => setBucketMs(ms)}>
            {bucketName(ms)}
          </button>
        ))}
        {bucketMs === 1 && window.why !== 'whole' && (
          <span className="hint io-graph-window">
            {`${window.why === 'worst' ? 'the minute around the worst millisecond' : 'the stretch you chose'}: ${(window.fromMs / 1000).toFixed(0)}–${(window.toMs / 1000).toFixed(0)} s from the first packet`}
          </span>
        )}
        {bucketMs !== 1 && long && <span className="hint io-graph-window">drag across the graph to see up to ten minutes of it at 1 ms</span>}
      </div>
      {view ? (
        <Suspense fallback={<div className="io-graph" />}>
          <IoGraph view={view} capacityMbps={capacityMbps} maxMbps={Math.max(peakMbps, capacityMbps) * 1.1} onSelectRange={bucketMs !== 1 && long ? onSelectRange : undefined} />
        </Suspense>
      ) : fine === 'failed' ? (
        <p className="error-text">The 1 ms graph could not be loaded.</p>
      ) : (
        <div className="io-graph" aria-busy="true" />
      )}
      {analysis.conversations.length > 0 && (
        <table className="conversations">
          <caption>Top conversations</caption>
          <thead>
            <tr>
              <th>Conversation</th>
              <th>Packets</th>
              <th>Bytes</th>
            </tr>
          </thead>
          <tbody>
            {analysis.conversations.slice(0, 5).map((c) => (
              <tr key={c.conversation}>
                <td className="mono">{c.conversation}</td>
                <td>{c.packets.toLocaleString('en')}</td>
                <td>{formatBytes(c.bytes)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {notes.map((w) => (
        <p key={w} className="hint">
          ⚠ {w}
        </p>
      ))}
    </>
  );
}
