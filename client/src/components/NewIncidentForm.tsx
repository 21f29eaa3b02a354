import { Severities, type Incident } from '../../../shared/model';
import { api } from '../api';
import { field, useSubmit } from './form';

export function NewIncidentForm({ onCreated }: { onCreated: (incident: Incident) => void }) {
  const { onSubmit, error, busy } = useSubmit(async (fields, form) => {
    onCreated(await api<Incident>('POST', '/api/incidents', { title: field(fields, 'title'), severity: field(fields, 'severity') }));
    form.reset();
  });
  return (
    <form className="card inline-form" onSubmit={onSubmit} aria-label="New incident">
      <h2>New incident</h2>
      <div className="row">
        <label className="grow">
          Title
          <input name="title" required placeholder="What is broken, for whom" />
        </label>
        <label>
          Severity
          <select name="severity" defaultValue="sev3">
            {Severities.map((severity) => (
              <option key={severity}>{severity}</option>
            ))}
          </select>
        </label>
        <button type="submit" disabled={busy}>
          Open incident
        </button>
      </div>
      {error && <p className="error" role="alert">{error}</p>}
    </form>
  );
}
