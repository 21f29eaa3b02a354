/**
 * The sign-in settings (server/auth/sign-in-config.ts): what each variable gives, and each setting
 * that cannot work stopping the server at start with a message naming it.
 */
import { describe, expect, it } from 'vitest';
import { signInConfigFromEnv } from '../../server/auth/sign-in-config.js';

const idp = { OIDC_ISSUER: 'https://idp.example/realms/ops', OIDC_CLIENT_ID: 'bridgelog' };

describe('sign-in settings', () => {
  it('are local accounts only by default', () => {
    expect(signInConfigFromEnv({})).toEqual({ localLogin: true, breakGlassAdmin: undefined });
  });

  it('read the identity provider, its groups and lifetimes', () => {
    const config = signInConfigFromEnv({
      ...idp, OIDC_CLIENT_SECRET: 's3cret', PUBLIC_URL: 'https://bridgelog.example/', OIDC_ADMIN_GROUPS: ' admins , sre ', OIDC_VIEWER_GROUPS: 'staff',
      OIDC_DEFAULT_ROLE: 'viewer', OIDC_SESSION_HOURS: '8', LOCAL_LOGIN: 'false', BREAK_GLASS_ADMIN: 'root',
    });
    expect(config).toMatchObject({ localLogin: false, breakGlassAdmin: 'root' });
    expect(config.oidc).toMatchObject({
      issuer: idp.OIDC_ISSUER, clientId: 'bridgelog', clientSecret: 's3cret', publicUrl: 'https://bridgelog.example', groupsClaim: 'groups',
      adminGroups: ['admins', 'sre'], responderGroups: [], viewerGroups: ['staff'], defaultRole: 'viewer', sessionMaxAgeMs: 8 * 3_600_000, timeoutSeconds: 10, allowHttp: false,
    });
    expect(signInConfigFromEnv({ ...idp, OIDC_ISSUER: 'http://127.0.0.1:9000' }).oidc?.allowHttp).toBe(true);
  });

  it.each([
    [{ LOCAL_LOGIN: 'false' }, 'LOCAL_LOGIN=false needs OIDC_ISSUER'],
    [{ LOCAL_LOGIN: 'no' }, 'LOCAL_LOGIN must be true or false'],
    [{ OIDC_ISSUER: 'https://idp.example' }, 'OIDC_CLIENT_ID'],
    [{ ...idp, OIDC_ISSUER: 'http://idp.example' }, 'OIDC_ISSUER must be https'],
    [{ ...idp, OIDC_ISSUER: 'idp.example' }, 'OIDC_ISSUER is not a URL'],
    [{ ...idp, PUBLIC_URL: 'ftp://x' }, 'PUBLIC_URL must be an https URL'],
    [{ ...idp, OIDC_DEFAULT_ROLE: 'owner' }, 'OIDC_DEFAULT_ROLE must be viewer, responder, admin or none'],
    [{ ...idp, OIDC_SESSION_HOURS: '0' }, 'OIDC_SESSION_HOURS must be a positive number of hours'],
    [{ ...idp, OIDC_TIMEOUT_SECONDS: 'soon' }, 'OIDC_TIMEOUT_SECONDS must be a positive number'],
  ])('refuses %j: %s', (env, message) => {
    expect(() => signInConfigFromEnv(env as NodeJS.ProcessEnv)).toThrow(message);
  });
});
