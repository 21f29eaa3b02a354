/**
 * "Seen before" while logging (#19): what a responder types as a test's title and command, asked of
 * `GET /api/search/similar` after a pause, for entries of *other* incidents like it. Asked only when
 * the words changed by a few characters since the last question (not on a space or a case change),
 * the question before always aborted; a failure shows nothing, since this must never be in the way.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { MaxQueryChars, wordsOf, type SimilarAnswer, type SimilarResult } from '../../../shared/search';

/** Typing is asked about this long after the last key. */
export const SEEN_BEFORE_PAUSE_MS = 400;
/** At least this many characters of words, and changed by at least this many since the last question. */
const MIN_CHARS = 3;
export const SHOWN_SIMILAR = 3;

/** How many characters differ between two texts, ignoring what they share at either end (what typing changes). */
export function charactersChanged(a: string, b: string): number {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let end = 0;
  while (end < a.length - start && end < b.length - start && a[a.length - 1 - end] === b[b.length - 1 - end]) end++;
  return Math.max(a.length, b.length) - start - end;
}

export interface SeenBefore {
  results: SimilarResult[];
  dismissed: boolean;
  /** The title and command as they now read. */
  typed: (title: string, command: string) => void;
  /** Hidden for the rest of this entry. */
  dismiss: () => void;
  /** A new entry: ask again from nothing. */
  reset: () => void;
}

export function useSeenBefore(incidentId: string): SeenBefore {
  const [results, setResults] = useState<SimilarResult[]>([]);
  const [dismissed, setDismissed] = useState(false);
  const asked = useRef('');
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined);
  const request = useRef<AbortController>(undefined);
  const isDismissed = useRef(false);

  const stop = useCallback(() => {
    clearTimeout(timer.current);
    request.current?.abort();
    request.current = undefined;
  }, []);
  useEffect(() => stop, [stop]);

  const ask = useCallback(
    async (text: string) => {
      request.current?.abort();
      const controller = new AbortController();
      request.current = controller;
      const params = new URLSearchParams({ text, incident: incidentId, limit: String(SHOWN_SIMILAR) });
      try {
        const res = await fetch(`/api/search/similar?${params}`, { credentials: 'same-origin', signal: controller.signal });
        if (!res.ok) throw new Error(`${res.status}`);
        const answer = (await res.json()) as SimilarAnswer;
        if (!controller.signal.aborted) setResults(Array.isArray(answer.results) ? answer.results.slice(0, SHOWN_SIMILAR) : []);
      } catch {
        if (!controller.signal.aborted) setResults([]);
      }
    },
    [incidentId],
  );

  const typed = useCallback(
    (title: string, command: string) => {
      if (isDismissed.current) return;
      const text = [title.trim(), command.trim()].filter(Boolean).join('\n').slice(0, MaxQueryChars);
      const words = wordsOf(text).join(' ');
      if (words.length < MIN_CHARS) {
        stop();
        asked.current = '';
        setResults([]);
        return;
      }
      clearTimeout(timer.current);
      if (charactersChanged(words, asked.current) < MIN_CHARS) return;
      timer.current = setTimeout(() => {
        asked.current = words;
        void ask(text);
      }, SEEN_BEFORE_PAUSE_MS);
    },
    [ask, stop],
  );

  const dismiss = useCallback(() => {
    isDismissed.current = true;
    stop();
    setDismissed(true);
  }, [stop]);

  const reset = useCallback(() => {
    stop();
    isDismissed.current = false;
    asked.current = '';
    setDismissed(false);
    setResults([]);
  }, [stop]);

  return { results, dismissed, typed, dismiss, reset };
}
