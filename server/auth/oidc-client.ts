/**
 * The OpenID Connect relying party (issue #17), on openid-client (certified, maintained): the
 * authorization code flow with PKCE (S256), `state` and `nonce`. openid-client checks the ID token —
 * issuer, audience, signature (the IdP's JWKS, enableNonRepudiationChecks), expiry, issued-at and not-before, nonce — and the
 * state; the IdP refuses a code used twice. Every request to the IdP has a bounded timeout
 * (OIDC_TIMEOUT_SECONDS), so an IdP that is down or slow gives a clear page, never a hanging sign-in.
 *
 * What a sign-in needs between the redirect to the IdP and the callback (state, nonce, PKCE verifier,
 * where to go after) lives in a short-lived HttpOnly cookie on the browser that started it: any node
 * can finish it, and a callback from another browser (a forged or stolen link) finds no match.
 */
import * as oidc from 'openid-client';
import type { OidcConfig } from './sign-in-config.js';

/** The sign-in in progress, kept in the `bridgelog_oidc` cookie until the callback. */
export interface PendingSignIn {
  state: string;
  nonce: string;
  verifier: string;
  returnTo: string;
}

/** The claims Bridgelog reads from a verified ID token. */
export interface VerifiedIdentity {
  issuer: string;
  subject: string;
  claims: Record<string, unknown>;
}

/** Why a sign-in failed, in words for the page the browser lands on; `status` for that page. */
export class SignInError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly detail?: string,
  ) {
    super(message);
  }
}

export class OidcRelyingParty {
  private discovered: Promise<oidc.Configuration> | undefined;

  constructor(readonly config: OidcConfig) {}

  /** The IdP's configuration from its discovery document; a failure is not kept (the next sign-in asks again). */
  private configuration(): Promise<oidc.Configuration> {
    const { config } = this;
    this.discovered ??= oidc
      .discovery(
        new URL(config.issuer),
        config.clientId,
        config.clientSecret,
        config.clientSecret ? oidc.ClientSecretPost(config.clientSecret) : oidc.None(),
        { timeout: config.timeoutSeconds, ...(config.allowHttp ? { execute: [oidc.allowInsecureRequests] } : {}) },
      )
      .then((c) => {
        c.timeout = config.timeoutSeconds;
        // The ID token's signature is checked against the IdP's JWKS too, not only trusted for
        // coming over TLS from the token endpoint (which OpenID Connect would allow).
        oidc.enableNonRepudiationChecks(c);
        return c;
      });
    this.discovered.catch(() => (this.discovered = undefined));
    return this.discovered.catch((err: unknown) => {
      throw unreachable(config.issuer, err);
    });
  }

  /** Where to send the browser to sign in, and what to keep until it comes back. */
  async start(redirectUri: string, returnTo: string): Promise<{ url: string; pending: PendingSignIn }> {
    const configuration = await this.configuration();
    const verifier = oidc.randomPKCECodeVerifier();
    const pending: PendingSignIn = { state: oidc.randomState(), nonce: oidc.randomNonce(), verifier, returnTo };
    const url = oidc.buildAuthorizationUrl(configuration, {
      redirect_uri: redirectUri,
      scope: 'openid profile email',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: pending.state,
      nonce: pending.nonce,
    });
    return { url: url.href, pending };
  }

  /** Redeems the code in the callback URL and verifies the ID token; throws SignInError saying what was wrong. */
  async finish(callbackUrl: URL, pending: PendingSignIn): Promise<VerifiedIdentity> {
    const configuration = await this.configuration();
    let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
    try {
      tokens = await oidc.authorizationCodeGrant(configuration, callbackUrl, {
        pkceCodeVerifier: pending.verifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
    } catch (err) {
      throw refused(this.config.issuer, err);
    }
    const claims = tokens.claims();
    if (!claims) throw new SignInError(502, 'The identity provider sent no ID token.');
    return { issuer: claims.iss, subject: claims.sub, claims: claims as Record<string, unknown> };
  }

  /** The IdP's logout URL (RP-initiated logout) if its discovery names an end_session_endpoint. */
  async endSessionUrl(postLogoutRedirectUri: string): Promise<string | undefined> {
    let configuration: oidc.Configuration;
    try {
      configuration = await this.configuration();
    } catch {
      return undefined; // the IdP is away: the session here has ended all the same
    }
    if (!configuration.serverMetadata().end_session_endpoint) return undefined;
    return oidc.buildEndSessionUrl(configuration, { client_id: this.config.clientId, post_logout_redirect_uri: postLogoutRedirectUri }).href;
  }
}

function errorText(err: unknown): string {
  const e = err as { message?: string; cause?: unknown; error?: string; error_description?: string };
  const cause = e.cause instanceof Error ? ` (${e.cause.message})` : '';
  return `${e.message ?? String(err)}${cause}`;
}

function unreachable(issuer: string, err: unknown): SignInError {
  if (err instanceof SignInError) return err;
  return new SignInError(502, `The identity provider at ${issuer} did not answer in time or could not be used. Try again in a minute; if it keeps happening, tell your Bridgelog admin.`, errorText(err));
}

/** A failed code exchange or ID token check, as the user should read it. */
function refused(issuer: string, err: unknown): SignInError {
  const text = errorText(err);
  if (err instanceof oidc.ResponseBodyError) {
    // invalid_grant: the code was used already, expired, or was issued to another client.
    return new SignInError(400, 'The identity provider refused this sign-in code (it was already used, or it expired). Start the sign-in again.', `${err.error}: ${err.error_description ?? ''}`);
  }
  if (err instanceof oidc.AuthorizationResponseError) {
    return new SignInError(400, `The identity provider did not sign you in: ${err.error_description ?? err.error}.`, err.error);
  }
  const code = (err as { code?: string }).code ?? '';
  if (/state/i.test(text)) return new SignInError(400, 'This sign-in was not started in this browser, or it was started again since (state mismatch). Start the sign-in again.', text);
  if (code === 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED' || /"exp"|"nbf"|"iat"|timestamp/.test(text)) {
    return new SignInError(400, 'The identity provider sent an ID token that has expired or is not valid yet (check the clocks). Nothing was created.', text);
  }
  if (code === 'OAUTH_JWT_CLAIM_COMPARISON_FAILED' || /unexpected|mismatch|claim/i.test(text)) {
    return new SignInError(400, 'The identity provider sent an ID token meant for someone else (wrong issuer, audience or nonce). Nothing was created.', text);
  }
  if (/signature/i.test(text)) return new SignInError(400, 'The ID token\'s signature does not match the identity provider\'s keys. Nothing was created.', text);
  if (/timeout|abort|fetch failed|ECONNREFUSED/i.test(text)) return unreachable(issuer, err);
  return new SignInError(400, 'The identity provider\'s answer could not be verified. Nothing was created.', text);
}
