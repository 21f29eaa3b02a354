/**
 * Signing in: with the organisation's identity provider when one is set up (a button: the IdP's own
 * page does the rest, then the server sends the browser back to `returnTo`), and with a name and
 * password unless LOCAL_LOGIN=false — then only the break-glass admin's form, folded away.
 */
import { useEffect, useState } from 'react';
import type { User } from '../../../shared/model';
import { safeReturnTo } from '../../../shared/return-to';
import { ApiFailure, api } from '../api';
import { field, useSubmit } from '../components/form';
import './SignIn.css';

interface SignInMethods {
  local: boolean;
  breakGlass: boolean;
  oidc?: { name: string; loginUrl: string };
}

/** Where to go once signed in: `?returnTo=` when it is a path here, else the incidents. */
export function returnToOfLocation(): string {
  return safeReturnTo(new URLSearchParams(window.location.search).get('returnTo') ?? '/') ?? '/';
}

export function LoginPage({ onLoggedIn }: { onLoggedIn: (user: User) => void }) {
  const [methods, setMethods] = useState<SignInMethods>();
  useEffect(() => {
    api<SignInMethods>('GET', '/api/auth/methods').then(setMethods, () => setMethods({ local: true, breakGlass: false }));
  }, []);
  const { onSubmit, error, busy } = useSubmit(async (fields) => {
    try {
      onLoggedIn(await api<User>('POST', '/api/auth/login', { name: field(fields, 'name'), password: field(fields, 'password') }));
    } catch (err) {
      throw err instanceof ApiFailure && err.status === 401 ? new Error('wrong name or password') : err;
    }
  });
  if (!methods) return <main className="auth" />;
  const passwordForm = (
    <form className={methods.oidc ? 'sign-in-password' : 'card'} onSubmit={onSubmit}>
      {!methods.oidc && <h1>Log in to Bridgelog</h1>}
      <label>
        Name
        <input name="name" autoComplete="username" required autoFocus={!methods.oidc} />
      </label>
      <label>
        Password
        <input name="password" type="password" autoComplete="current-password" required />
      </label>
      {error && <p className="error" role="alert">{error}</p>}
      <button type="submit" disabled={busy} className={methods.oidc ? 'quiet' : undefined}>
        Log in
      </button>
    </form>
  );
  const href = methods.oidc && `${methods.oidc.loginUrl}?returnTo=${encodeURIComponent(returnToOfLocation())}`;
  return (
    <main className="auth">
      {methods.oidc && (
        <section className="card sign-in-idp">
          <h1>Log in to Bridgelog</h1>
          <a className="sign-in-button" href={href} autoFocus>
            Sign in with {methods.oidc.name}
          </a>
          {methods.local && <p className="hint">or with a Bridgelog name and password:</p>}
          {methods.local && passwordForm}
          {!methods.local && (
            <details>
              <summary>Administrator sign-in (break-glass)</summary>
              {passwordForm}
            </details>
          )}
        </section>
      )}
      {!methods.oidc && passwordForm}
    </main>
  );
}
