import type { Migration } from './index.js';

/**
 * Invite links (auth/invite-store.ts, pg-invites.ts): one row each, only the link's SHA-256 kept.
 * Redeeming is one conditional UPDATE (`used_at IS NULL AND expires_at > now`), so two nodes
 * redeeming one link at once give it to one of them. Not replicated to the nodes' catalog: read only
 * when an invite is opened, made or listed.
 */
export const invites: Migration = {
  id: 8,
  name: 'invites',
  sql: `
CREATE TABLE invites (
  id text PRIMARY KEY,
  token_hash text NOT NULL UNIQUE,
  role text NOT NULL,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  used_by text
);
`,
};
