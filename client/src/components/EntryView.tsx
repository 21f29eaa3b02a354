/** One log entry, as plain text. */
import type { Entry } from '../../../shared/schema/doc';
import { formatUtc } from '../time';

export function EntryView({ entry }: { entry: Entry }) {
  return (
    <article className={`entry entry-${entry.kind}`} aria-label={entry.title}>
      <header className="entry-header">
        <span className={`badge kind-${entry.kind}`}>{entry.kind}</span>
        <h3>{entry.title}</h3>
        <time dateTime={entry.ranAt}>{formatUtc(entry.ranAt)}</time>
      </header>
      {entry.command && (
        <pre className="command">
          <code>{entry.command}</code>
        </pre>
      )}
      {entry.observations && <EntryText label="Observations" text={entry.observations} />}
      {entry.conclusion && <EntryText label="Conclusion" text={entry.conclusion} />}
    </article>
  );
}

function EntryText({ label, text }: { label: string; text: string }) {
  return (
    <section className="entry-text">
      <h4>{label}</h4>
      <p>{text}</p>
    </section>
  );
}
