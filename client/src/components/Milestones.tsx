/**
 * Milestones (#18) on the incident page: when impact started, when it was detected, acknowledged,
 * mitigated and resolved, plus the team's own ("customers notified"), each with its UTC time, who
 * set it (on hover) and a mark when it was set long after the time it names; the durations between
 * them, ticking while the incident is open, or a warning where a milestone is missing or out of
 * order (never a negative figure). The picker sets, moves and clears them, by mouse or from the
 * keyboard (`m`), and offers what the server suggests from the evidence.
 */
import { useEffect, useRef, useState, type FormEvent } from 'react';
import {
  durationsOf,
  formatDuration,
  MilestoneLimits,
  milestoneLabel,
  StandardMilestones,
  isStandardMilestone,
  type DurationView,
  type MilestoneView,
} from '../../../shared/schema/milestones';
import { ApiFailure } from '../api';
import type { MilestoneFeed, MilestoneSuggestion } from '../collab/milestones';
import { formatLocal, formatUtc, parseRanAt, serverNowSync } from '../time';
import './Milestones.css';

/** `06:12:30Z` on the day of `today`, else `12-04 06:12:30Z`. */
export function shortUtc(iso: string, today: Date = serverNowSync()): string {
  const full = formatUtc(iso);
  return full.slice(0, 10) === today.toISOString().slice(0, 10) ? full.slice(11) : full.slice(5);
}

/** Standard milestones first, in their order, then the team's own by time. */
export function milestoneOrder(milestones: Record<string, string>): string[] {
  const custom = Object.keys(milestones)
    .filter((name) => !isStandardMilestone(name))
    .sort((a, b) => milestones[a]!.localeCompare(milestones[b]!) || a.localeCompare(b));
  return [...StandardMilestones, ...custom];
}

function useEverySecond(active: boolean): number {
  const [now, setNow] = useState(() => serverNowSync().getTime());
  useEffect(() => {
    if (!active) return;
    setNow(serverNowSync().getTime());
    const timer = setInterval(() => setNow(serverNowSync().getTime()), 1000);
    return () => clearInterval(timer);
  }, [active]);
  return now;
}

function whoSet(view: MilestoneView | undefined): string {
  if (!view) return '';
  return ` · set by ${view.setBy.name} at ${formatUtc(view.setAt)}${view.backfilled ? ' (backfilled)' : ''}`;
}

interface StripProps {
  milestones: Record<string, string>;
  /** Who set each, from the server; empty in a replay or offline. */
  views?: ReadonlyMap<string, MilestoneView>;
  /** Opens the picker on a milestone (absent: read-only, for viewers and replays). */
  onPick?: (name: string | null) => void;
  /** What "today" is for short times (a replay's moment). */
  today?: Date;
}

/** The milestones as a row of chips: set ones with their time, unset ones as buttons. */
export function MilestoneStrip({ milestones, views, onPick, today }: StripProps) {
  return (
    <div className="milestones" role="group" aria-label="Milestones">
      {milestoneOrder(milestones).map((name) => {
        const at = milestones[name];
        const label = milestoneLabel(name);
        if (!at) {
          return onPick ? (
            <button key={name} type="button" className="milestone milestone-unset" data-milestone={name} onClick={() => onPick(name)} aria-label={`Set ${label}`}>
              + {label}
            </button>
          ) : (
            <span key={name} className="milestone milestone-unset" data-milestone={name}>
              {label} —
            </span>
          );
        }
        const view = views?.get(name);
        const title = `${label} ${formatUtc(at)} (${formatLocal(at)})${whoSet(view)}`;
        const content = (
          <>
            <span className="milestone-dot" aria-hidden="true" />
            <span className="milestone-label">{label}</span> <time dateTime={at}>{shortUtc(at, today)}</time>
            {view?.backfilled && <span className="milestone-backfilled">backfilled</span>}
          </>
        );
        const common = { className: `milestone milestone-set milestone-${isStandardMilestone(name) ? name : 'custom'}`, 'data-milestone': name, title };
        return onPick ? (
          <button key={name} type="button" {...common} onClick={() => onPick(name)} aria-label={`${title}. Change or clear`}>
            {content}
          </button>
        ) : (
          <span key={name} {...common}>
            {content}
          </span>
        );
      })}
      {onPick && (
        <button type="button" className="milestone milestone-add" onClick={() => onPick('')} title="A milestone of your own, e.g. customers notified (m)">
          + Custom…
        </button>
      )}
    </div>
  );
}

function Duration({ d }: { d: DurationView }) {
  if (d.ms === undefined) {
    const outOfOrder = /before/.test(d.problem ?? '');
    return (
      <span className={`duration duration-problem${outOfOrder ? ' duration-out-of-order' : ''}`} data-duration={d.name} title={`${d.label}: ${d.problem}`}>
        <span className="duration-label">{d.label}</span> <span className="duration-warning">⚠ {d.problem}</span>
      </span>
    );
  }
  return (
    <span className={`duration${d.running ? ' duration-running' : ''}`} data-duration={d.name} title={d.running ? `${d.label}: still running` : d.label}>
      <span className="duration-label">{d.label}</span> <strong className="duration-value">{formatDuration(d.ms)}</strong>
      {d.running && <> <span className="duration-running-mark">so far</span></>}
    </span>
  );
}

/** Time to detect, acknowledge, mitigate and resolve; ticking each second while one is running. */
export function Durations({ milestones, open, at }: { milestones: Record<string, string>; open: boolean; /** A fixed moment (a replay); else now, ticking. */ at?: number }) {
  const running = at === undefined && open;
  const now = useEverySecond(running);
  const durations = durationsOf(milestones, { open, now: at ?? now });
  return (
    <div className="durations" role="group" aria-label="Durations">
      {durations.map((d) => (
        <Duration key={d.name} d={d} />
      ))}
    </div>
  );
}

const CUSTOM = '\u0000custom';

/** The first standard milestone not yet set, in order: what a responder most likely sets next. */
const nextUnset = (milestones: Record<string, string>) => StandardMilestones.find((n) => !milestones[n]) ?? StandardMilestones[0];

function AtHint({ text }: { text: string }) {
  const now = useEverySecond(text.trim() === '');
  if (text.trim() === '' || text.trim().toLowerCase() === 'now') return <span className="hint">now: {formatUtc(new Date(now).toISOString())}</span>;
  const parsed = parseRanAt(text, serverNowSync());
  if (typeof parsed === 'string') return <span className="hint error-text">{parsed}</span>;
  return <span className="hint">{formatUtc(parsed.toISOString())}</span>;
}

/** What to send for a typed time: `now` (the server's clock) or the moment read on the server-corrected clock. */
export function atToSend(text: string): string {
  const input = text.trim();
  if (!input || input.toLowerCase() === 'now') return 'now';
  const parsed = parseRanAt(input, serverNowSync());
  if (typeof parsed === 'string') throw new Error(parsed);
  return parsed.toISOString();
}

/** The server's message; a request that never reached it (offline) said so, since milestones are set through the server. */
export const failureReason = (err: unknown): string => {
  if (err instanceof ApiFailure) return err.message;
  if (err instanceof TypeError) return 'the server cannot be reached (offline?); milestones are set through it — try again once connected';
  return err instanceof Error ? err.message : String(err);
};
const reason = failureReason;

interface PickerProps {
  feed: MilestoneFeed;
  milestones: Record<string, string>;
  views: ReadonlyMap<string, MilestoneView>;
  suggestions: readonly MilestoneSuggestion[];
  /** The milestone to start on; `''` for a new custom one, `null` for the next unset one. */
  initial: string | null;
  onClose: () => void;
}

/** Set, move or clear a milestone: a dialog, so it is the same by mouse, keyboard and on a phone. */
export function MilestonePicker({ feed, milestones, views, suggestions, initial, onClose }: PickerProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [choice, setChoice] = useState(() => (initial === '' ? CUSTOM : (initial ?? nextUnset(milestones))));
  const [custom, setCustom] = useState('');
  const [at, setAt] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    dialog.current?.showModal();
    void feed.refresh(); // suggestions as of now
  }, [feed]);

  const name = choice === CUSTOM ? custom.trim() : choice;
  const label = name ? milestoneLabel(name) : 'milestone';
  const current = name ? milestones[name] : undefined;
  const customs = Object.keys(milestones).filter((n) => !isStandardMilestone(n));

  const run = async (action: () => Promise<unknown>, failed: string) => {
    setBusy(true);
    setError(undefined);
    try {
      await action();
      dialog.current?.close();
    } catch (err) {
      setError(`${failed}: ${reason(err)}`);
    } finally {
      setBusy(false);
    }
  };
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (!name) return setError('Name the milestone, e.g. customers notified');
    if (name.length > MilestoneLimits.maxNameChars) return setError(`A milestone's name is at most ${MilestoneLimits.maxNameChars} characters`);
    let send: string;
    try {
      send = atToSend(at);
    } catch (err) {
      return setError(`${label} not set: ${reason(err)}`);
    }
    void run(() => feed.set(name, send), `${label} not set`);
  };

  return (
    <dialog ref={dialog} className="card milestone-picker" aria-labelledby="milestone-picker-heading" onClose={onClose}>
      <form
        onSubmit={submit}
        aria-label="Set a milestone"
        // Enter on the milestone's list sets it (at now, unless a time is typed): m, Enter is enough.
        onKeyDown={(e) => {
          if (e.key === 'Enter' && e.target instanceof HTMLSelectElement) {
            e.preventDefault();
            e.currentTarget.requestSubmit();
          }
        }}
      >
        <h2 id="milestone-picker-heading">Milestone</h2>
        <div className="milestone-picker-fields">
          <label>
            Milestone
            <select name="name" value={choice} onChange={(e) => setChoice(e.target.value)} autoFocus={initial !== ''}>
              {StandardMilestones.map((n) => (
                <option key={n} value={n}>
                  {milestoneLabel(n)}
                  {milestones[n] ? ` — set ${shortUtc(milestones[n]!)}` : ''}
                </option>
              ))}
              {customs.map((n) => (
                <option key={n} value={n}>
                  {n} — set {shortUtc(milestones[n]!)}
                </option>
              ))}
              <option value={CUSTOM}>Custom…</option>
            </select>
          </label>
          {choice === CUSTOM && (
            <label>
              Name
              <input
                name="custom"
                value={custom}
                onChange={(e) => setCustom(e.target.value)}
                placeholder="customers notified"
                maxLength={MilestoneLimits.maxNameChars}
                autoComplete="off"
                autoFocus
              />
            </label>
          )}
          <label>
            <span>
              At (UTC) <AtHint text={at} />
            </span>
            <input name="at" className="mono" value={at} onChange={(e) => setAt(e.target.value)} placeholder="now — or 06:12, -15m, 2026-03-04 06:12:30Z" autoComplete="off" />
          </label>
        </div>
        {current && (
          <p className="hint milestone-current">
            {label} is set to {formatUtc(current)}
            {whoSet(views.get(name))}
          </p>
        )}
        {error && (
          <p className="error milestone-error" role="alert">
            {error}
          </p>
        )}
        <div className="row">
          <button type="submit" disabled={busy}>
            {current ? `Move ${label}` : `Set ${label}`}
          </button>
          {current && (
            <button type="button" className="quiet" disabled={busy} onClick={() => void run(() => feed.clear(name), `${label} not cleared`)}>
              Clear {label}
            </button>
          )}
          <button type="button" className="quiet" onClick={() => dialog.current?.close()}>
            Cancel
          </button>
        </div>
        {suggestions.length > 0 && (
          <section className="milestone-suggestions" aria-label="Suggested milestones">
            <h3>Suggested from the evidence</h3>
            <ul>
              {suggestions.map((s) => (
                <li key={`${s.name}:${s.at}`}>
                  <button
                    type="button"
                    className="quiet small"
                    disabled={busy}
                    onClick={() => void run(() => feed.set(s.name, s.at), `${milestoneLabel(s.name)} not set`)}
                    title={`Set ${milestoneLabel(s.name)} to ${formatUtc(s.at)}`}
                  >
                    <strong>{milestoneLabel(s.name)}</strong> {shortUtc(s.at)} — {s.why}
                  </button>
                </li>
              ))}
            </ul>
          </section>
        )}
      </form>
    </dialog>
  );
}
