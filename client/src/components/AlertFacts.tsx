/** How an alert reads wherever it is shown: firing or resolved, its title (linking to its source graph), when, and its labels. */
import type { ReactNode } from 'react';
import type { Alert } from '../../../shared/alerts';
import { safeHref } from '../safe-url';
import { formatLocal, formatUtc } from '../time';

export function AlertStatus({ alert }: { alert: Alert }) {
  return <span className={`badge alert-${alert.status}`}>{alert.status}</span>;
}

export function AlertTitle({ alert }: { alert: Alert }) {
  const href = safeHref(alert.url);
  if (!href) return <span className="alert-title">{alert.title}</span>;
  return (
    <a className="alert-title" href={href} target="_blank" rel="noopener noreferrer" title="Open the source graph">
      {alert.title}
    </a>
  );
}

const Time = ({ iso }: { iso: string }) => (
  <time dateTime={iso} title={formatLocal(iso)}>
    {formatUtc(iso)}
  </time>
);

export function AlertTimes({ alert }: { alert: Alert }) {
  if (alert.status === 'firing' || !alert.endsAt) {
    return (
      <span className="alert-times">
        since <Time iso={alert.startsAt} />
      </span>
    );
  }
  return (
    <span className="alert-times">
      <Time iso={alert.startsAt} /> – <Time iso={alert.endsAt} />
    </span>
  );
}

export function AlertLabels({ labels }: { labels: Record<string, string> }) {
  const entries = Object.entries(labels);
  if (entries.length === 0) return null;
  return (
    <ul className="labels" aria-label="Labels">
      {entries.map(([name, value]) => (
        <li key={name}>
          {name}={value}
        </li>
      ))}
    </ul>
  );
}

/** An alert as one item of a list, with what may be done to it (declare, detach…) beside its times. */
export function AlertCard({ alert, action }: { alert: Alert; action?: ReactNode }) {
  return (
    <li className={`alert alert-card-${alert.status}`} aria-label={alert.title} data-alert-id={alert.id} tabIndex={-1}>
      <div className="alert-head">
        <AlertStatus alert={alert} />
        <AlertTitle alert={alert} />
      </div>
      <div className="alert-foot">
        <AlertTimes alert={alert} />
        {action}
      </div>
      <AlertLabels labels={alert.labels} />
    </li>
  );
}
