/**
 * `bridgelog login` asks the signed-in user to approve it here (`/device?code=ABCD-EFGH`): the page
 * shows the code the terminal printed, to compare, and gives the CLI a new personal token on approval.
 */
import { useEffect, useState } from 'react';
import type { User } from '../../../shared/model';
import { api } from '../api';
import './SignIn.css';

export function DevicePage({ user }: { user: User }) {
  const code = new URLSearchParams(window.location.search).get('code') ?? '';
  const [state, setState] = useState<'checking' | 'waiting' | 'approved' | 'unknown'>('checking');
  const [error, setError] = useState<string>();
  useEffect(() => {
    if (!code) return setState('unknown');
    api('GET', `/api/auth/device/${encodeURIComponent(code)}`).then(() => setState('waiting'), (err: Error) => {
      setError(err.message);
      setState('unknown');
    });
  }, [code]);
  const approve = () => api('POST', `/api/auth/device/${encodeURIComponent(code)}/approve`).then(() => setState('approved'), (err: Error) => setError(err.message));
  return (
    <section className="card tokens-page" aria-labelledby="device-title">
      <h1 id="device-title">Sign in the bridgelog CLI</h1>
      {state === 'checking' && <p>Checking the code…</p>}
      {state === 'waiting' && (
        <>
          <p>
            A terminal asks to act as <strong>{user.name}</strong> ({user.role}). Check that it shows this code:
          </p>
          <p className="device-code"><code data-testid="device-code">{code}</code></p>
          <button type="button" onClick={approve}>Approve</button>
          <p className="hint">Not you? Close this page: nothing happens without your approval.</p>
        </>
      )}
      {state === 'approved' && <p role="status">Approved. The CLI is signed in; you can close this page.</p>}
      {state === 'unknown' && <p className="error" role="alert">{error ?? 'No code given: run bridgelog login and open the link it prints.'}</p>}
    </section>
  );
}
