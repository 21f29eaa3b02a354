/**
 * A moment typed in UTC, read the way the composer reads a run time (`06:12`, `2026-03-04 06:12:30.500`,
 * `-15m`), with the reason shown when it cannot be read. The replay's "Go to", the timeline's "Jump
 * to" and catch-up's "since" all use it.
 */
import { useState, type FormEvent } from 'react';
import { parseRanAt } from '../time';

interface Props {
  /** Names the form for assistive technology. */
  name: string;
  /** The field's label; shown beside it when `showLabel`, else only to assistive technology. */
  label: string;
  showLabel?: boolean;
  placeholder: string;
  button: string;
  className: string;
  /** The day a bare time of day falls on (asked at submit time: "now" moves). */
  reference: () => Date;
  onTime: (at: Date) => void;
}

export function UtcTimeForm({ name, label, showLabel = false, placeholder, button, className, reference, onTime }: Props) {
  const [error, setError] = useState<string>();
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const text = new FormData(event.currentTarget).get('at')?.toString() ?? '';
    if (!text.trim()) return;
    const at = parseRanAt(text, reference());
    if (typeof at === 'string') return setError(at);
    setError(undefined);
    onTime(at);
  };
  const input = (
    <input
      name="at"
      aria-label={showLabel ? undefined : label}
      placeholder={placeholder}
      autoComplete="off"
      aria-invalid={error ? true : undefined}
      title={error}
    />
  );
  return (
    <form className={className} onSubmit={submit} aria-label={name}>
      {showLabel ? (
        <label>
          {label}
          {input}
        </label>
      ) : (
        input
      )}
      <button type="submit" className="quiet small">
        {button}
      </button>
      {error && (
        <span className="error-text" role="alert">
          {error}
        </span>
      )}
    </form>
  );
}
