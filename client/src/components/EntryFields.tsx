/**
 * What the new-entry form and the entry editor share: the kind picker and the rules for a title and a
 * run time, so an entry is held to the same rules whether it is being logged or edited.
 */
import type { SelectHTMLAttributes } from 'react';
import { Limits } from '../../../shared/protocol';
import { EntryKinds, type EntryKind } from '../../../shared/schema/doc';
import { parseRanAt } from '../time';

export const kindOf = (value: string): EntryKind => EntryKinds.find((kind) => kind === value) ?? 'note';

/** "Kind" and its select: uncontrolled (`name`, `defaultValue`) or controlled (`value`, `onChange`). */
export function KindSelect(props: SelectHTMLAttributes<HTMLSelectElement>) {
  return (
    <label>
      Kind
      <select {...props}>
        {EntryKinds.map((kind) => (
          <option key={kind}>{kind}</option>
        ))}
      </select>
    </label>
  );
}

/** What is wrong with a title as typed (before trimming), or undefined if it can be taken. */
export function titleProblem(typed: string): string | undefined {
  const title = typed.trim();
  if (!title) return 'An entry needs a title: what you checked or did.';
  if (title.length > Limits.maxTitleChars) return `The title is ${title.length.toLocaleString('en')} characters; the limit is ${Limits.maxTitleChars}.`;
  return undefined;
}

/** A run time as typed ("now" when empty, 06:12, -15m, an ISO time), or the message saying why not. */
export function ranAtOrProblem(typed: string, now: Date): Date | string {
  const ranAt = parseRanAt(typed, now);
  return typeof ranAt === 'string' ? `Ran at: ${ranAt}.` : ranAt;
}
