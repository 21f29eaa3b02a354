import type { Migration } from './index.js';

/**
 * Sign-in through the organisation's identity provider (issue #17). `catalog_users.identity` is the
 * account's IdP identity (issuer, newline, subject), unique so that two nodes signing in one new
 * person at once cannot create two accounts; NULL for local accounts. `device_logins` holds the
 * minutes-long sign-ins `bridgelog login` starts (only the device code's hash), read and changed by
 * single statements, never replicated: a node asks PostgreSQL when the CLI polls or a browser approves.
 */
export const signIn: Migration = {
  id: 7,
  name: 'sign-in',
  sql: `
ALTER TABLE catalog_users ADD COLUMN identity text UNIQUE;
CREATE TABLE device_logins (
  device_hash text PRIMARY KEY,
  user_code text NOT NULL UNIQUE,
  expires_at timestamptz NOT NULL,
  approved_by text,
  value json NOT NULL
);
CREATE INDEX device_logins_expiry ON device_logins (expires_at);
`,
};
