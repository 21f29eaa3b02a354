/** InviteStore in PostgreSQL (migrations/008-invites.ts); the contract is in auth/invite-store.ts. */
import type pg from 'pg';
import type { Role } from '../../../shared/model.js';
import { whyNot, type InviteRecord, type InviteStore } from '../../auth/invite-store.js';

interface Row {
  id: string;
  token_hash: string;
  role: Role;
  created_by: string;
  created_at: Date;
  expires_at: Date;
  used_at: Date | null;
  used_by: string | null;
}

const record = (r: Row): InviteRecord => ({
  id: r.id,
  tokenHash: r.token_hash,
  role: r.role,
  createdBy: r.created_by,
  createdAt: r.created_at.toISOString(),
  expiresAt: r.expires_at.toISOString(),
  ...(r.used_at ? { usedAt: r.used_at.toISOString() } : {}),
  ...(r.used_by ? { usedBy: r.used_by } : {}),
});

export function openPgInvites(pool: pg.Pool): InviteStore {
  const byHash = async (hash: string) => {
    const { rows } = await pool.query<Row>('SELECT * FROM invites WHERE token_hash = $1', [hash]);
    return rows[0] && record(rows[0]);
  };
  return {
    async add(i) {
      await pool.query(
        'INSERT INTO invites (id, token_hash, role, created_by, created_at, expires_at, used_at, used_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
        [i.id, i.tokenHash, i.role, i.createdBy, i.createdAt, i.expiresAt, i.usedAt ?? null, i.usedBy ?? null],
      );
    },
    async list() {
      const { rows } = await pool.query<Row>('SELECT * FROM invites ORDER BY created_at, id');
      return rows.map(record);
    },
    byTokenHash: byHash,
    async redeem(hash, userId, now) {
      const { rows } = await pool.query<Row>(
        'UPDATE invites SET used_at = $3, used_by = $2 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $3 RETURNING *',
        [hash, userId, now],
      );
      if (rows[0]) return { ok: true, invite: record(rows[0]) };
      // Not ours: say why (gone, used by someone else, or expired).
      return whyNot(await byHash(hash), now) ?? { ok: false, reason: 'used' };
    },
    async release(id, userId) {
      await pool.query('UPDATE invites SET used_at = NULL, used_by = NULL WHERE id = $1 AND used_by = $2', [id, userId]);
    },
    async remove(id) {
      const { rowCount } = await pool.query('DELETE FROM invites WHERE id = $1', [id]);
      return (rowCount ?? 0) > 0;
    },
    close: async () => undefined,
  };
}
