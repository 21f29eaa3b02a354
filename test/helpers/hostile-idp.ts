/**
 * A hostile OpenID provider: a real HTTP server on port 0 that serves discovery, a JWKS and a token
 * endpoint, and signs ID tokens with `jose` — with whatever is wrong in them that a test asks for
 * (another issuer or audience, expired, not yet valid, signed with a key not in its JWKS, another
 * nonce), or answers slowly. Its authorization endpoint sends the browser straight back with a code,
 * as an IdP with a remembered session does. It stands for a misconfigured or malicious IdP, not for
 * Bridgelog's code: the relying party under test talks to it over HTTP like to any other.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type JWTPayload } from 'jose';

export interface Hostility {
  /** Changes the ID token's claims (given the ones a correct IdP would send). */
  claims?: (claims: JWTPayload) => JWTPayload;
  /** Sign with a key that is not in the JWKS. */
  foreignKey?: boolean;
  /** Hold the token endpoint's answer this long. */
  tokenDelayMs?: number;
}

export interface HostileIdp {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** What the next token requests get wrong. */
  hostility: Hostility;
  /** The groups claim the ID tokens carry. */
  groups: string[] | undefined;
  close(): Promise<void>;
}

export async function startHostileIdp(): Promise<HostileIdp> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const foreign = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  /** code → the authorization request's nonce. */
  const codes = new Map<string, string>();
  let issuer = '';
  const idp: HostileIdp = {
    issuer: '', clientId: 'bridgelog', clientSecret: 'hostile-secret', hostility: {}, groups: ['staff'],
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', issuer);
    const json = (body: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (url.pathname === '/.well-known/openid-configuration') {
      return json({
        issuer, authorization_endpoint: `${issuer}/authorize`, token_endpoint: `${issuer}/token`, jwks_uri: `${issuer}/jwks`,
        response_types_supported: ['code'], subject_types_supported: ['public'], id_token_signing_alg_values_supported: ['RS256'],
        code_challenge_methods_supported: ['S256'], token_endpoint_auth_methods_supported: ['client_secret_post'],
      });
    }
    if (url.pathname === '/jwks') return json({ keys: [jwk] });
    if (url.pathname === '/authorize') {
      const code = `code-${codes.size + 1}-${Math.random().toString(36).slice(2)}`;
      codes.set(code, url.searchParams.get('nonce') ?? '');
      const back = new URL(url.searchParams.get('redirect_uri')!);
      back.searchParams.set('code', code);
      back.searchParams.set('state', url.searchParams.get('state') ?? '');
      back.searchParams.set('iss', issuer);
      return res.writeHead(302, { location: back.href }).end();
    }
    if (url.pathname === '/token' && req.method === 'POST') {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const form = new URLSearchParams(body);
        const nonce = codes.get(form.get('code') ?? '');
        codes.delete(form.get('code') ?? ''); // a code is good once, as at any IdP
        if (nonce === undefined) return res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'invalid_grant', error_description: 'unknown code' }));
        const answer = async () => {
          const now = Math.floor(Date.now() / 1000);
          const base: JWTPayload = { iss: issuer, aud: idp.clientId, sub: 'hostile-user-1', iat: now, exp: now + 300, nonce, preferred_username: 'mallory', ...(idp.groups ? { groups: idp.groups } : {}) };
          const claims = idp.hostility.claims ? idp.hostility.claims(base) : base;
          const idToken = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).sign(idp.hostility.foreignKey ? foreign.privateKey : privateKey);
          json({ access_token: 'at-' + Math.random().toString(36).slice(2), token_type: 'Bearer', expires_in: 300, id_token: idToken });
        };
        setTimeout(() => void answer(), idp.hostility.tokenDelayMs ?? 0);
      });
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  idp.issuer = issuer;
  return idp;
}

/**
 * A browser's sign-in at `bridgelogUrl` through this IdP, by hand, as the person `sub` with `groups`
 * (the IdP answers correctly): the session cookie (`bridgelog_session=…`), or throws with the page.
 */
export async function idpSession(bridgelogUrl: string, idp: HostileIdp, sub: string, groups: string[] | undefined, username = sub): Promise<string> {
  const before = { ...idp.hostility };
  idp.hostility = { claims: (c) => ({ ...c, sub, preferred_username: username }) };
  const savedGroups = idp.groups;
  idp.groups = groups;
  try {
    const start = await fetch(`${bridgelogUrl}/api/auth/oidc/login`, { redirect: 'manual' });
    const pending = start.headers.getSetCookie().map((c) => c.split(';')[0]!).find((c) => c.startsWith('bridgelog_oidc='))!;
    const atIdp = await fetch(start.headers.get('location')!, { redirect: 'manual' });
    const back = await fetch(atIdp.headers.get('location')!, { redirect: 'manual', headers: { cookie: pending } });
    const session = back.headers.getSetCookie().map((c) => c.split(';')[0]!).find((c) => c.startsWith('bridgelog_session='));
    if (back.status !== 302 || !session) throw new Error(`sign-in as ${sub} refused: ${back.status} ${await back.text()}`);
    return session;
  } finally {
    idp.hostility = before;
    idp.groups = savedGroups;
  }
}
