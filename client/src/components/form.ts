/**
 * What every form here does on submit: run the action, keep the button busy, show the server's
 * message on failure. A second submit while the first runs (Enter pressed twice, Space held on the
 * button) is ignored: one press, one thing created. The guard is a ref, not the `busy` state, which
 * only disables the button once React has rendered again — too late for a key repeated at once.
 */
import { useRef, useState, type FormEvent } from 'react';

export function useSubmit(action: (fields: FormData, form: HTMLFormElement) => Promise<void>) {
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const running = useRef(false);
  const onSubmit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (running.current) return;
    running.current = true;
    const form = event.currentTarget;
    setBusy(true);
    setError(undefined);
    try {
      await action(new FormData(form), form);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      running.current = false;
      setBusy(false);
    }
  };
  return { onSubmit, error, busy };
}

export const field = (fields: FormData, name: string): string => {
  const value = fields.get(name);
  return typeof value === 'string' ? value : '';
};
