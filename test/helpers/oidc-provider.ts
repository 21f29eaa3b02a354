/**
 * A real OpenID provider for the sign-in tests: `oidc-provider` (the certified Node implementation)
 * on port 0, with its development login pages (any password; the login name is the account), people
 * whose groups a test can change between sign-ins, and one confidential client for Bridgelog. Its
 * HTTP server listens before Bridgelog starts (Bridgelog needs the issuer), and the provider is made
 * once Bridgelog's URL is known (the client's redirect URI is Bridgelog's).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

export interface TestPerson {
  name?: string;
  email?: string;
  /** Undefined: the ID token carries no groups claim at all. */
  groups?: string[];
}

export interface TestIdp {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Login name → claims; change groups between sign-ins. */
  people: Map<string, TestPerson>;
  /** Makes the provider for Bridgelog at `bridgelogUrl` (redirect and post-logout URIs). */
  serve(bridgelogUrl: string): void;
  close(): Promise<void>;
}

export async function startTestIdp(): Promise<TestIdp> {
  let handler: http.RequestListener = (_req, res) => res.writeHead(503).end();
  const server = http.createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const people = new Map<string, TestPerson>();
  const clientId = 'bridgelog';
  const clientSecret = 'bridgelog-test-secret-0123456789abcdef';
  return {
    issuer, clientId, clientSecret, people,
    serve(bridgelogUrl) {
      const provider = new Provider(issuer, {
        clients: [{
          client_id: clientId,
          client_secret: clientSecret,
          redirect_uris: [`${bridgelogUrl}/api/auth/oidc/callback`],
          post_logout_redirect_uris: [`${bridgelogUrl}/login`],
          token_endpoint_auth_method: 'client_secret_post',
          grant_types: ['authorization_code'],
          response_types: ['code'],
        }],
        cookies: { keys: ['test-cookie-key-0123456789'] },
        claims: { openid: ['sub', 'groups'], profile: ['name', 'preferred_username'], email: ['email'] },
        // Scope-derived claims (groups, name, email) in the ID token itself, as Keycloak and Okta can send them.
        conformIdTokenClaims: false,
        features: { rpInitiatedLogout: { enabled: true } },
        pkce: { required: () => true },
        async findAccount(_ctx, id) {
          const person = people.get(id);
          if (!person) return undefined;
          return {
            accountId: id,
            async claims() {
              return { sub: id, preferred_username: id, name: person.name, email: person.email, ...(person.groups ? { groups: person.groups } : {}) };
            },
          };
        },
        // First-party client: no consent screen, as a company IdP is set up for its own tools.
        async loadExistingGrant(ctx) {
          const accountId = ctx.oidc.session!.accountId!;
          const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client!.clientId, accountId });
          grant.addOIDCScope('openid profile email');
          await grant.save();
          return grant;
        },
      });
      provider.on('server_error', (_ctx, err) => console.error('test IdP server_error', err));
      handler = provider.callback() as http.RequestListener;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
