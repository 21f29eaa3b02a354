/**
 * Admin: where alerts come from. Each integration is a sender (Alertmanager, Grafana, a script) with
 * its own token, shown once when it is made, with the URL to post to; revoking one stops its
 * webhooks at once. "Last alert" tells whether a sender is actually getting through.
 */
import { useCallback, useEffect, useState } from 'react';
import type { User } from '../../../shared/model';
import { AlertSources, type AlertSource, type Integration } from '../../../shared/alerts';
import { api } from '../api';
import { AdminNav } from '../components/AdminNav';
import { field, useSubmit } from '../components/form';
import { utcMinute } from '../components/time-ago';
import './AdminPages.css';

const SOURCE_LABELS: Record<AlertSource, string> = {
  alertmanager: 'Prometheus Alertmanager',
  grafana: 'Grafana alerting',
  generic: 'Generic JSON (scripts, other tools)',
};

type CreatedIntegration = Integration & { token: string };

export function AdminIntegrationsPage({ user }: { user: User }) {
  const [integrations, setIntegrations] = useState<Integration[]>();
  const [error, setError] = useState<string>();
  const [created, setCreated] = useState<CreatedIntegration>();
  const load = useCallback(() => {
    api<Integration[]>('GET', '/api/integrations').then(setIntegrations, (err: Error) => setError(err.message));
  }, []);
  useEffect(() => {
    if (user.role === 'admin') load();
  }, [load, user.role]);
  const { onSubmit, error: createError, busy } = useSubmit(async (fields, form) => {
    setCreated(await api<CreatedIntegration>('POST', '/api/integrations', { name: field(fields, 'name'), kind: field(fields, 'kind') }));
    form.reset();
    load();
  });

  if (user.role !== 'admin') return <p className="notice">Only admins manage alert integrations.</p>;

  const revoke = (i: Integration) => {
    if (!window.confirm(`Revoke “${i.name}”? Its webhooks are refused from now on; the alerts it sent stay.`)) return;
    api('DELETE', `/api/integrations/${encodeURIComponent(i.id)}`).then(load, (err: Error) => setError(err.message));
  };

  return (
    <div className="admin">
      <div>
        <h1>Administration</h1>
        <AdminNav />
      </div>
      {error && <p className="error" role="alert">{error}</p>}
      {created && (
        <div className="banner created-secret" role="status">
          <p>
            <strong>Added “{created.name}”.</strong> Its token is shown this once. Configure the sender to post to the URL below with{' '}
            <code>Authorization: Bearer &lt;token&gt;</code>.
          </p>
          <code className="secret-link mono">{`${window.location.origin}/api/hooks/${created.kind}`}</code>
          <code className="secret-link" data-testid="integration-token">{created.token}</code>
          <div className="actions">
            <button type="button" className="quiet small" onClick={() => setCreated(undefined)}>Done</button>
          </div>
        </div>
      )}
      <section className="card" aria-labelledby="integrations-heading">
        <h2 id="integrations-heading">Alert integrations</h2>
        {integrations === undefined ? (
          <p className="hint">Loading…</p>
        ) : integrations.length === 0 ? (
          <p className="hint">None yet: add one below, then point Alertmanager or Grafana at it.</p>
        ) : (
          <table>
            <thead>
              <tr><th>Name</th><th>Sender</th><th>Created</th><th>Last alert</th><th /></tr>
            </thead>
            <tbody>
              {integrations.map((i) => (
                <tr key={i.id} className={i.revokedAt ? 'removed' : undefined} aria-label={i.name}>
                  <td>{i.name}</td>
                  <td>{SOURCE_LABELS[i.kind]}</td>
                  <td>{utcMinute(i.createdAt)}</td>
                  <td data-testid="last-alert">{i.lastAlertAt ? utcMinute(i.lastAlertAt) : 'none yet'}</td>
                  <td>
                    {i.revokedAt ? (
                      <span className="badge">revoked {utcMinute(i.revokedAt)}</span>
                    ) : (
                      <button type="button" className="quiet small" onClick={() => revoke(i)}>Revoke {i.name}</button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section className="card" aria-labelledby="new-integration-heading">
        <h2 id="new-integration-heading">Add an integration</h2>
        <form className="row" onSubmit={onSubmit} aria-label="New integration">
          <label>
            Name
            <input name="name" required maxLength={100} placeholder="prod alertmanager" />
          </label>
          <label>
            Sender
            <select name="kind" defaultValue="alertmanager">
              {AlertSources.map((s) => <option key={s} value={s}>{SOURCE_LABELS[s]}</option>)}
            </select>
          </label>
          <button type="submit" disabled={busy}>Add integration</button>
        </form>
        {createError && <p className="error" role="alert">{createError}</p>}
      </section>
    </div>
  );
}
