/**
 * Catch-up: "Since you left" — what changed while you were away, shown when you come back to an
 * incident (the server remembers where you left: when your last connection to it closed), grouped
 * the way a latecomer reads it, each line linking to its entry. Dismissing it marks it as seen.
 * Anyone can also ask what changed since a time. Someone opening an incident for the first time gets
 * the summary from the start (the server's `firstVisit` digest): what was concluded, the hypotheses
 * and their verdicts, the status changes and the latest tests. One's own changes are never news.
 */
import { useEffect, useState, type ReactNode } from 'react';
import type { Digest, DigestItem } from '../../../shared/history';
import { api } from '../api';
import { formatLocal, formatUtc, serverNowSync } from '../time';
import { UtcTimeForm } from './UtcTimeForm';

interface Props {
  incidentId: string;
  /** Someone asked to catch up (the log's "Catch up…"): show the panel, with "since <time>". */
  asked: boolean;
  onClose: () => void;
  onJump: (entryId: string) => void;
}

type Kind = DigestItem['kind'];
type MilestoneLine = Extract<DigestItem, { kind: 'milestone' }>;

function Milestones({ lines, today }: { lines: MilestoneLine[]; today: string }) {
  if (lines.length === 0) return null;
  return (
    <section className="digest-group" aria-label="Milestones">
      <h3>Milestones</h3>
      <ul>
        {lines.map((line) => (
          <li key={`${line.name}:${line.at}`} data-milestone={line.name}>
            <div className="digest-what">
              {line.to ? (
                <>
                  <strong>{line.label}</strong> at <time dateTime={line.to}>{shortUtc(line.to, today)}</time>
                  {line.from && <span className="hint"> (was {shortUtc(line.from, today)})</span>}
                </>
              ) : (
                <>
                  <strong>{line.label}</strong> cleared
                </>
              )}
            </div>
            <span className="digest-who">
              {line.by.length > 0 && `by ${line.by.map((u) => u.name).join(', ')} · `}
              <time dateTime={line.at} title={formatLocal(line.at)}>
                {formatUtc(line.at).slice(11)}
              </time>
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}

const GROUPS: Array<{ title: string; kinds: Kind[] }> = [
  { title: 'Incident', kinds: ['incident'] },
  { title: 'New tests and entries', kinds: ['entry-added'] },
  { title: 'Conclusions', kinds: ['conclusion'] },
  { title: 'Hypotheses and verdicts', kinds: ['verdict', 'hypothesis-added'] },
  { title: 'Evidence', kinds: ['evidence'] },
  { title: 'Alerts', kinds: ['alert-fired', 'alert-resolved', 'alert-attached', 'alert-detached'] },
  { title: 'Other changes', kinds: ['entry-changed', 'entry-removed'] },
];

/** On a first visit, the entries listed: the latest ones. */
const FIRST_VISIT_ENTRIES = 8;

const changes = (n: number) => `${n} ${n === 1 ? 'change' : 'changes'}`;

/** `06:10 UTC`, with the date when it was another day than `today`. */
function shortUtc(iso: string, today: string): string {
  const full = formatUtc(iso);
  return `${full.slice(0, 10) === formatUtc(today).slice(0, 10) ? full.slice(11, 16) : full.slice(0, 16)} UTC`;
}

const firstLine = (text: string) => text.trim().split('\n')[0];

function What({ item, onJump }: { item: DigestItem; onJump: (id: string) => void }): ReactNode {
  const entry = (id: string, title: string) => (
    <button type="button" className="link" onClick={() => onJump(id)} title="Show it in the log">
      {title || '(untitled)'}
    </button>
  );
  switch (item.kind) {
    case 'entry-added':
      return (
        <>
          <span className={`badge kind-${item.entryKind}`}>{item.entryKind}</span> {entry(item.entry, item.title)}
          {item.attachments > 0 && <span className="hint"> · {item.attachments === 1 ? '1 file' : `${item.attachments} files`}</span>}
          {item.conclusion.trim() && <p className="digest-text">{firstLine(item.conclusion)}</p>}
        </>
      );
    case 'conclusion':
      return (
        <>
          {entry(item.entry, item.title)}
          <p className="digest-text">
            {item.previous.trim() && <del>{firstLine(item.previous)}</del>} {item.conclusion.trim() ? firstLine(item.conclusion) : <em>conclusion removed</em>}
          </p>
        </>
      );
    case 'entry-changed':
      return (
        <>
          {entry(item.entry, item.title)} <span className="hint">changed {item.fields.join(', ')}</span>
        </>
      );
    case 'entry-removed':
      return <>“{item.title || '(untitled)'}” removed</>;
    case 'evidence': {
      const added = [item.attachments.length > 0 && (item.attachments.length === 1 ? '1 file' : `${item.attachments.length} files`), item.links > 0 && (item.links === 1 ? '1 link' : `${item.links} links`)];
      return (
        <>
          {entry(item.entry, item.title)} <span className="hint">+ {added.filter(Boolean).join(', ')}</span>
        </>
      );
    }
    case 'hypothesis-added':
      return (
        <>
          New hypothesis “{item.statement}” <span className={`badge hypothesis-${item.status}`}>{item.status}</span>
        </>
      );
    case 'verdict':
      return (
        <>
          “{item.statement}”: {item.from} → <span className={`badge hypothesis-${item.to}`}>{item.to}</span>
        </>
      );
    case 'incident':
      return (
        <>
          {item.field}: {item.from ?? '—'} → <strong>{item.to ?? '—'}</strong>
        </>
      );
    case 'alert-fired':
    case 'alert-resolved':
      return (
        <>
          <span className={`badge alert-${item.kind === 'alert-fired' ? 'firing' : 'resolved'}`}>{item.kind === 'alert-fired' ? 'fired' : 'resolved'}</span> {item.title}
        </>
      );
    case 'alert-attached':
    case 'alert-detached':
      return (
        <>
          <span className="badge">{item.kind === 'alert-attached' ? 'attached' : 'detached'}</span> {item.title}
        </>
      );
    case 'milestone':
      return null; // a group of their own (Milestones, above)
  }
}

function Items({ digest, milestones, onJump }: { digest: Digest; milestones: MilestoneLine[]; onJump: (id: string) => void }) {
  return (
    <>
      <Milestones lines={milestones} today={digest.until.at} />
      {GROUPS.map(({ title, kinds }) => {
        const all = digest.items.filter((i) => kinds.includes(i.kind));
        // From the start, the log may be long: the latest tests, the rest a click away in the log.
        const items = digest.firstVisit && kinds.includes('entry-added') ? [...all].sort((a, b) => a.at.localeCompare(b.at)).slice(-FIRST_VISIT_ENTRIES) : all;
        if (items.length === 0) return null;
        return (
          <section key={title} className="digest-group" aria-label={title}>
            <h3>{items.length < all.length ? `${title} — the latest ${items.length} of ${all.length}` : title}</h3>
            <ul>
              {items.map((item, i) => (
                <li key={i}>
                  <div className="digest-what">
                    <What item={item} onJump={onJump} />
                  </div>
                  <span className="digest-who">
                    {item.by.length > 0 && `${item.by.map((u) => u.name).join(', ')} · `}
                    <time dateTime={item.at} title={formatLocal(item.at)}>
                      {formatUtc(item.at).slice(11)}
                    </time>
                  </span>
                </li>
              ))}
            </ul>
          </section>
        );
      })}
    </>
  );
}

export function CatchUp({ incidentId, asked, onClose, onJump }: Props) {
  const base = `/api/incidents/${encodeURIComponent(incidentId)}`;
  const [digest, setDigest] = useState<Digest>();
  const [error, setError] = useState<string>();
  /** A first visit's summary is offered folded, one click away, so the log stays where it is. */
  const [unfolded, setUnfolded] = useState(false);

  useEffect(() => {
    let current = true;
    api<Digest>('GET', `${base}/digest`).then(
      (d) => current && (d.sinceLastSeen || d.firstVisit) && d.items.length > 0 && setDigest(d),
      () => undefined, // offline: the news waits for the next visit
    );
    return () => {
      current = false;
    };
  }, [base]);

  const ask = (since: string) => api<Digest>('GET', `${base}/digest?since=${encodeURIComponent(since)}`).then(setDigest, (err: Error) => setError(err.message));
  const close = () => {
    setDigest(undefined);
    setError(undefined);
    onClose();
  };
  const dismiss = (seen: Digest) =>
    api('POST', `${base}/seen`, { seq: seen.until.seq }).then(close, (err: Error) => setError(`Not marked as seen: ${err.message}`));

  if (!digest && !asked) return null;
  const since = digest && shortUtc(digest.since.at, digest.until.at);
  const milestones = digest ? digest.items.filter((i): i is MilestoneLine => i.kind === 'milestone') : [];
  const told = digest ? digest.items.length : 0;
  const heading = !digest
    ? 'Catch up'
    : digest.firstVisit
      ? `New here? The incident so far — ${changes(told)}`
      : `${digest.sinceLastSeen ? `Since you left (${since})` : `Since ${since}`} — ${changes(told)}`;
  const marks = digest?.sinceLastSeen || digest?.firstVisit;
  return (
    <section className="card catch-up" aria-label="Catch up">
      <div className="catch-up-head">
        <h2>{heading}</h2>
        <button type="button" className="quiet small" onClick={() => (digest && marks ? dismiss(digest) : close())}>
          {marks ? 'Dismiss' : 'Close'}
        </button>
      </div>
      {digest && told === 0 && <p className="hint">Nothing changed since then.</p>}
      {digest?.firstVisit && (
        <p className="hint">
          Everything since it was declared at {since}, without what you did yourself: what was concluded, the hypotheses and their verdicts, status changes and the latest tests.{' '}
          {!unfolded && (
            <button type="button" className="small" onClick={() => setUnfolded(true)}>
              Read the summary
            </button>
          )}
        </p>
      )}
      {digest && (!digest.firstVisit || unfolded) && <Items digest={digest} milestones={milestones} onJump={onJump} />}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {/* The first-visit offer stays a compact card: asking since a time is the "Catch up…" button's. */}
      {(asked || !digest?.firstVisit) && (
        <UtcTimeForm
          className="catch-up-since"
          name="Changes since a time"
          label="What changed since (UTC)"
          showLabel
          placeholder="06:10, 2026-03-04 06:10 or -2h"
          button="Show"
          reference={serverNowSync}
          onTime={(at) => ask(at.toISOString())}
        />
      )}
    </section>
  );
}
