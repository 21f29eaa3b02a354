/** What every form here does on submit: run the action, keep the button busy, show the server's message on failure. */
import { useState, type FormEvent } from 'react';

export function useSubmit(action: (fields: FormData, form: HTMLFormElement) => Promise<void>) {
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const onSubmit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = event.currentTarget;
    setBusy(true);
    setError(undefined);
    try {
      await action(new FormData(form), form);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  return { onSubmit, error, busy };
}

export const field = (fields: FormData, name: string): string => {
  const value = fields.get(name);
  return typeof value === 'string' ? value : '';
};
