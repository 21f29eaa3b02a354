/**
 * Notifications (#20), for admins: where the moments of incidents are sent (Slack, Teams, Matrix,
 * email, signed webhooks), a form to add a destination (its signing secret shown once), and each
 * destination's deliveries — status, attempts, the receiver's answer, and a retry for what failed.
 */
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import type { User } from '../../../shared/model';
import {
  DestinationKinds, NotificationEventLabels, NotificationEvents, NotificationLimits,
  type CreatedDestination, type Delivery, type Destination, type DestinationKind, type NotificationEventName,
} from '../../../shared/notifications';
import { api } from '../api';
import { AdminNav } from '../components/AdminNav';
import './NotificationsPage.css';

const KIND_LABELS: Record<DestinationKind, string> = {
  slack: 'Slack (incoming webhook)',
  teams: 'Microsoft Teams (Workflows webhook)',
  matrix: 'Matrix room',
  email: 'Email (SMTP)',
  webhook: 'Webhook (Standard Webhooks, signed)',
};

const URL_HINTS: Record<DestinationKind, { label: string; placeholder: string }> = {
  slack: { label: 'Webhook URL', placeholder: 'https://hooks.slack.com/services/…' },
  teams: { label: 'Workflows webhook URL', placeholder: 'https://prod-00.westeurope.logic.azure.com/workflows/…' },
  matrix: { label: 'Homeserver URL', placeholder: 'https://matrix.example.org' },
  email: { label: 'SMTP server', placeholder: 'smtps://user:password@smtp.example.com:465' },
  webhook: { label: 'URL', placeholder: 'https://hooks.example.com/bridgelog' },
};

const utc = (iso: string | null) => (iso ? `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC` : '—');

export function NotificationsPage({ user }: { user: User }) {
  const [destinations, setDestinations] = useState<Destination[]>();
  const [error, setError] = useState<string>();
  const [selected, setSelected] = useState<string>();
  const [created, setCreated] = useState<CreatedDestination>();

  const load = useCallback(() => {
    api<Destination[]>('GET', '/api/notifications/destinations').then(
      (list) => {
        setDestinations(list);
        setError(undefined);
      },
      (err: Error) => setError(err.message),
    );
  }, []);
  useEffect(() => {
    if (user.role !== 'admin') return;
    load();
    const timer = setInterval(load, 3000);
    return () => clearInterval(timer);
  }, [load, user.role]);

  if (user.role !== 'admin') return <p className="notice">Only admins configure notifications.</p>;

  const change = (d: Destination, body: Record<string, unknown>) =>
    api('PATCH', `/api/notifications/destinations/${d.id}`, body).then(load, (err: Error) => setError(err.message));
  const remove = (d: Destination) => {
    if (!window.confirm(`Remove "${d.name}"? Messages still waiting for it are dropped.`)) return;
    api('DELETE', `/api/notifications/destinations/${d.id}`).then(() => {
      if (selected === d.id) setSelected(undefined);
      load();
    }, (err: Error) => setError(err.message));
  };

  return (
    <div className="notifications">
      <div>
        <h1>Notifications</h1>
        <AdminNav />
        <p className="hint">Tell the people who are not in the room: incidents declared and changed, milestones, conclusions, verdicts, alerts and a digest of tests, sent where they already are.</p>
      </div>
      {error && <p className="error" role="alert">{error}</p>}
      {created && (
        <div className="banner created-secret" role="status">
          <p>
            <strong>Added “{created.name}”.</strong>
            {created.secret && <> Its signing secret is shown this once: give it to the receiver, which verifies <code>webhook-signature</code> with it.</>}
          </p>
          {created.secret && <code className="secret" data-testid="destination-secret">{created.secret}</code>}
          <button type="button" className="quiet small" onClick={() => setCreated(undefined)}>Done</button>
        </div>
      )}
      <section aria-labelledby="destinations-heading" className="card">
        <h2 id="destinations-heading">Destinations</h2>
        {destinations === undefined ? (
          <p className="hint">Loading…</p>
        ) : destinations.length === 0 ? (
          <p className="hint">None yet: add one below.</p>
        ) : (
          <ul className="destination-list">
            {destinations.map((d) => (
              <li key={d.id} className={selected === d.id ? 'selected' : undefined} aria-label={d.name}>
                <div className="destination-head">
                  <strong>{d.name}</strong>
                  <span className="badge">{d.kind}</span>
                  {!d.enabled && <span className="badge off">disabled</span>}
                  <span className="counts">
                    <span>{d.counts.delivered} delivered</span>
                    {d.counts.pending > 0 && <span>{d.counts.pending} waiting</span>}
                    {d.counts.failed > 0 && <span className="failed-count">{d.counts.failed} failed</span>}
                  </span>
                </div>
                <div className="destination-target mono">{d.kind === 'matrix' ? `${d.roomId} on ${d.url}` : d.kind === 'email' ? `${(d.to ?? []).join(', ')} via ${d.url}` : d.url}</div>
                <div className="destination-events">{d.events.map((e) => <span key={e} className="badge">{e === 'tests.digest' ? `tests every ${d.digestMinutes} min` : e}</span>)}</div>
                <div className="row destination-actions">
                  <button type="button" className="quiet small" onClick={() => setSelected(selected === d.id ? undefined : d.id)} aria-expanded={selected === d.id}>
                    {selected === d.id ? 'Hide deliveries' : 'Deliveries'}
                  </button>
                  <button type="button" className="quiet small" onClick={() => change(d, { enabled: !d.enabled })}>{d.enabled ? 'Disable' : 'Enable'}</button>
                  <button type="button" className="quiet small" onClick={() => remove(d)}>Remove</button>
                </div>
                {selected === d.id && <Deliveries destination={d} onChange={load} />}
              </li>
            ))}
          </ul>
        )}
      </section>
      <NewDestination
        onCreated={(d) => {
          setCreated(d);
          setSelected(d.id);
          load();
        }}
      />
    </div>
  );
}

function NewDestination({ onCreated }: { onCreated: (d: CreatedDestination) => void }) {
  const [kind, setKind] = useState<DestinationKind>('slack');
  const [name, setName] = useState('');
  const [url, setUrl] = useState('');
  const [roomId, setRoomId] = useState('');
  const [accessToken, setAccessToken] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [events, setEvents] = useState<NotificationEventName[]>(['incident.declared', 'incident.updated', 'milestone.set', 'conclusion.written']);
  const [digestMinutes, setDigestMinutes] = useState(String(NotificationLimits.defaultDigestMinutes));
  const [error, setError] = useState<{ message: string; field?: string }>();
  const [busy, setBusy] = useState(false);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    const body: Record<string, unknown> = { name, kind, url, events, digestMinutes: Number(digestMinutes) };
    if (kind === 'matrix') Object.assign(body, { roomId, accessToken });
    if (kind === 'email') Object.assign(body, { from, to: to.split(',').map((s) => s.trim()).filter(Boolean) });
    api<CreatedDestination>('POST', '/api/notifications/destinations', body).then(
      (d) => {
        setBusy(false);
        setError(undefined);
        setName('');
        setUrl('');
        setAccessToken('');
        onCreated(d);
      },
      (err: Error & { field?: string }) => {
        setBusy(false);
        setError({ message: err.message, field: err.field });
      },
    );
  };
  const toggle = (e: NotificationEventName) => setEvents((list) => (list.includes(e) ? list.filter((x) => x !== e) : [...list, e]));

  return (
    <form className="card new-destination" onSubmit={submit} aria-labelledby="new-destination-heading">
      <h2 id="new-destination-heading">Add a destination</h2>
      <div className="row">
        <label className="grow">
          Name
          <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={NotificationLimits.maxNameChars} placeholder="#incidents" />
        </label>
        <label className="grow">
          Kind
          <select value={kind} onChange={(e) => setKind(e.target.value as DestinationKind)}>
            {DestinationKinds.map((k) => <option key={k} value={k}>{KIND_LABELS[k]}</option>)}
          </select>
        </label>
      </div>
      <label>
        {URL_HINTS[kind].label}
        <input value={url} onChange={(e) => setUrl(e.target.value)} required placeholder={URL_HINTS[kind].placeholder} aria-invalid={error?.field === 'url' || undefined} />
      </label>
      {kind === 'matrix' && (
        <div className="row">
          <label className="grow">
            Room id
            <input value={roomId} onChange={(e) => setRoomId(e.target.value)} required placeholder="!abc123:example.org" />
          </label>
          <label className="grow">
            Access token (kept, never shown again)
            <input type="password" value={accessToken} onChange={(e) => setAccessToken(e.target.value)} required autoComplete="off" />
          </label>
        </div>
      )}
      {kind === 'email' && (
        <div className="row">
          <label className="grow">
            From
            <input type="email" value={from} onChange={(e) => setFrom(e.target.value)} required placeholder="bridgelog@example.com" />
          </label>
          <label className="grow">
            To (comma-separated)
            <input value={to} onChange={(e) => setTo(e.target.value)} required placeholder="oncall@example.com, managers@example.com" />
          </label>
        </div>
      )}
      <fieldset className="event-choices">
        <legend>Send</legend>
        {NotificationEvents.map((e) => (
          <label key={e} className="check">
            <input type="checkbox" checked={events.includes(e)} onChange={() => toggle(e)} />
            {NotificationEventLabels[e]}
          </label>
        ))}
      </fieldset>
      {events.includes('tests.digest') && (
        <label className="digest-minutes">
          Digest of tests every (minutes)
          <input type="number" min={NotificationLimits.minDigestMinutes} max={NotificationLimits.maxDigestMinutes} value={digestMinutes} onChange={(e) => setDigestMinutes(e.target.value)} />
        </label>
      )}
      <p className="hint">Restricted incidents are never sent unless a destination is allowed them (through the API: <code>restrictedIncidents</code>).</p>
      {error && <p className="error" role="alert">{error.message}</p>}
      <button type="submit" disabled={busy}>Add destination</button>
    </form>
  );
}

function Deliveries({ destination, onChange }: { destination: Destination; onChange: () => void }) {
  const [list, setList] = useState<Delivery[]>();
  const [error, setError] = useState<string>();
  const [statuses, setStatuses] = useState('');
  const load = useCallback(() => {
    api<Delivery[]>('GET', `/api/notifications/deliveries?destination=${encodeURIComponent(destination.id)}`).then((l) => {
      setList(l);
      setStatuses(l.map((d) => d.status).join());
    }, (err: Error) => setError(err.message));
  }, [destination.id]);
  // The destination's counts follow what its deliveries show.
  useEffect(() => {
    if (statuses) onChange();
  }, [statuses, onChange]);
  useEffect(() => {
    load();
    const timer = setInterval(load, 1500);
    return () => clearInterval(timer);
  }, [load]);
  const retry = (d: Delivery) =>
    api<Delivery>('POST', `/api/notifications/deliveries/${encodeURIComponent(d.id)}/retry`).then(() => {
      load();
      onChange();
    }, (err: Error) => setError(err.message));

  if (error) return <p className="error" role="alert">{error}</p>;
  if (!list) return <p className="hint">Loading deliveries…</p>;
  if (list.length === 0) return <p className="hint">Nothing sent yet.</p>;
  return (
    <div className="deliveries" role="region" aria-label={`Deliveries to ${destination.name}`}>
      <table>
        <thead>
          <tr>
            <th scope="col">Made</th>
            <th scope="col">Event</th>
            <th scope="col">Status</th>
            <th scope="col">Attempts</th>
            <th scope="col" />
          </tr>
        </thead>
        <tbody>
          {list.map((d) => (
            <tr key={d.id} className={`delivery delivery-${d.status}`}>
              <td><time dateTime={d.createdAt}>{utc(d.createdAt)}</time></td>
              <td>
                <div className="delivery-summary">{d.summary}</div>
                <div className="hint mono">{d.event} · {d.id}</div>
                {d.lastError && <div className="delivery-error error-text">{d.lastError}</div>}
                {d.log.length > 0 && (
                  <details>
                    <summary>Attempts</summary>
                    <ol className="attempts" reversed>
                      {d.log.map((a, i) => (
                        <li key={i}>
                          <time dateTime={a.at}>{utc(a.at)}</time> · {a.ok ? 'ok' : 'failed'}{a.statusCode !== undefined ? ` · HTTP ${a.statusCode}` : ''} · {a.durationMs} ms
                          {a.error && a.error !== `HTTP ${a.statusCode}` && <> · {a.error}</>}
                          {a.excerpt && <div className="mono excerpt">{a.excerpt}</div>}
                        </li>
                      ))}
                    </ol>
                  </details>
                )}
              </td>
              <td><span className={`badge status-${d.status}`}>{d.status}</span>{d.status === 'pending' && d.nextAttemptAt && <div className="hint">next {utc(d.nextAttemptAt).slice(11)}</div>}</td>
              <td className="attempt-count">{d.attempts}</td>
              <td>{(d.status === 'failed' || d.status === 'withheld') && <button type="button" className="small" onClick={() => retry(d)}>Retry</button>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
