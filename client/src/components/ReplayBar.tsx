/**
 * The replay's controls: a banner saying which moment the page shows (with Exit back to live), a
 * slider over the incident's whole history with a tick at every change, a UTC time to go to,
 * play at 1×, 10× or 60×, next change, and what the last step changed and who changed it.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import type { HistoryEvent } from '../../../shared/history';
import { Speeds, type Replay, type Speed } from '../history/replay';
import type { ReplayedDoc } from '../history/replayed-doc';
import { useHeightAsCssVariable } from '../sticky';
import { useStore } from '../store';
import { formatUtcMs } from '../time';
import { UtcTimeForm } from './UtcTimeForm';

/** A drag settles for this long before the moment is fetched. */
const SEEK_DEBOUNCE_MS = 120;
/** The slider moves in steps of 1 ms, 10 ms, 100 ms… so that any history has at most about this many. */
const SLIDER_STEPS = 10_000;
/** Ticks are bucketed so a long history draws at most this many. */
const MAX_TICKS = 300;
const NOTES_SHOWN = 3;

function Ticks({ events, from, to }: { events: readonly HistoryEvent[]; from: number; to: number }) {
  const positions = useMemo(() => {
    const span = Math.max(1, to - from);
    const buckets = new Set(events.map((e) => Math.round(((Date.parse(e.at) - from) / span) * MAX_TICKS)));
    return [...buckets].map((b) => (b / MAX_TICKS) * 100);
  }, [events, from, to]);
  return (
    <div className="replay-ticks" aria-hidden="true">
      {positions.map((p) => (
        <span key={p} style={{ left: `${p}%` }} />
      ))}
    </div>
  );
}

/** The incident's severity and status as they were then (the header above shows them now). */
function StatusThen({ shown }: { shown: ReplayedDoc }) {
  const meta = useStore(shown.meta);
  return (
    <span className="replay-status">
      {meta.severity && <span className={`badge severity-${meta.severity}`}>{meta.severity}</span>}
      {meta.status && <span className={`badge status-${meta.status}`}>{meta.status}</span>}
    </span>
  );
}

export function ReplayBar({ replay, onExit }: { replay: Replay; onExit: () => void }) {
  const index = useStore(replay.index);
  const shown = useStore(replay.shown);
  const position = useStore(replay.position);
  const playing = useStore(replay.playing);
  const step = useStore(replay.step);
  const error = useStore(replay.error);
  const [speed, setSpeed] = useState<Speed>(1);
  const [dragAt, setDragAt] = useState<number>();
  const debounce = useRef<ReturnType<typeof setTimeout>>(undefined);
  const bar = useHeightAsCssVariable<HTMLElement>('--replay-bar-height');
  useEffect(() => () => clearTimeout(debounce.current), []);

  const events = index?.events ?? [];
  const firstAt = Date.parse(index?.firstAt ?? '') || 0;
  const lastAt = Math.max(Date.parse(index?.lastAt ?? '') || 0, position.at);
  const grain = 10 ** Math.max(0, Math.ceil(Math.log10((lastAt - firstAt) / SLIDER_STEPS)));
  // From just before the first record to just after the last, in whole steps.
  const from = Math.floor(firstAt / grain) * grain;
  const to = Math.max(from + grain, Math.ceil(lastAt / grain) * grain);
  const at = dragAt ?? position.at;

  const seekSoon = (value: number) => {
    setDragAt(value);
    clearTimeout(debounce.current);
    debounce.current = setTimeout(() => void replay.seek(value).then(() => setDragAt((d) => (d === value ? undefined : d))), SEEK_DEBOUNCE_MS);
  };
  const choose = (s: Speed) => {
    setSpeed(s);
    if (playing !== undefined) replay.play(s);
  };

  return (
    <section className="replay-bar card" aria-label="Replay" ref={bar}>
      <div className="replay-banner" role="status">
        <strong>
          Replay — as of <time dateTime={new Date(at).toISOString()}>{formatUtcMs(at)}</time>
        </strong>
        {shown && <StatusThen shown={shown} />}
        <button type="button" className="small" onClick={onExit}>
          Exit replay
        </button>
      </div>
      {!index && !error && <p className="hint">Loading the history…</p>}
      {index && !index.firstAt && <p className="hint">Nothing has been written to this incident yet.</p>}
      {index?.firstAt && (
        <>
          <div className="replay-track">
            <Ticks events={events} from={from} to={to} />
            <input type="range" aria-label="Replay time" min={from} max={to} step={grain} value={Math.min(to, Math.max(from, at))} onChange={(e) => seekSoon(Number(e.target.value))} />
            <div className="replay-ends">
              <span>{formatUtcMs(from)}</span>
              <span>{formatUtcMs(to)}</span>
            </div>
          </div>
          <div className="replay-controls">
            {playing === undefined ? (
              <button type="button" className="small" onClick={() => replay.play(speed)}>
                ▶ Play
              </button>
            ) : (
              <button type="button" className="small" onClick={() => replay.pause()}>
                ❚❚ Pause
              </button>
            )}
            <span className="replay-speeds" role="group" aria-label="Speed">
              {Speeds.map((s) => (
                <button key={s} type="button" className="quiet small" aria-pressed={s === speed} onClick={() => choose(s)}>
                  {s}×
                </button>
              ))}
            </span>
            <button type="button" className="quiet small" onClick={() => void replay.nextChange()} disabled={!events.some((e) => e.toSeq > position.seq)}>
              Next change ›
            </button>
            {/* A time of day means that time on the incident's last day. */}
            <UtcTimeForm
              className="replay-goto"
              name="Go to a time"
              label="Go to (UTC)"
              placeholder="Go to (UTC): 06:12:30, 2026-03-04 06:12:30.500"
              button="Go"
              reference={() => new Date(to)}
              onTime={(at) => void replay.seek(at.getTime())}
            />
          </div>
        </>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {step.notes.length > 0 && (
        <ul className="replay-notes" aria-label="What changed">
          {step.notes.slice(0, NOTES_SHOWN).map((note) => (
            <li key={note}>{note}</li>
          ))}
          {step.notes.length > NOTES_SHOWN && <li className="hint">and {step.notes.length - NOTES_SHOWN} more</li>}
        </ul>
      )}
    </section>
  );
}
