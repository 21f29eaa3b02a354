/**
 * MetadataStore in PostgreSQL: users, API tokens, sessions and incidents, each a table whose rows keep
 * the record as the embedded store does (migrations/002-catalog.ts), each held by every node as a
 * replica (catalog-feed.ts) so that reads stay synchronous. Writes resolve once committed, and once
 * this node's replica has them; other nodes have them as soon as they hear of it (well under a
 * second). Records handed out are frozen.
 *
 * As in the embedded store: user names match case-sensitively; a token's last use is noted in memory,
 * to the minute, and written later (here in one batch a minute, and at close); a session past its
 * expiry is not found, and expired sessions are deleted when a session is added; an update of an
 * unknown user or incident returns undefined; a field set to undefined by an update is removed.
 *
 * When another node changes who may see what (a user's role or removal, a token or session ended, an
 * incident's members), the feed is told (`remoteAccessChanged`), so this node checks its open sockets.
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import { DuplicateIdentityError, type ApiTokenRecord, type DeviceLoginRecord, type IncidentRecord, type MetadataStore, type SessionRecord, type UserIdentity, type UserRecord } from '../../store/metadata.js';
import { deepFreeze, frozenRecord, merged, readByKey, Replica, updateRow, type CatalogFeed, type ReplicaOptions, type StoredRow } from './catalog-feed.js';

const MINUTE_MS = 60_000;

export interface PgMetadataOptions {
  log?: Logger;
  /** How often tokens' last uses are written (default: a minute). */
  flushUsesMs?: number;
}

/** The `identity` column (migrations/007-sign-in.ts): unique, so two nodes cannot both create an account for one identity. */
const identityKey = (i: UserIdentity) => `${i.issuer}\n${i.subject}`;

const deviceLogin = (row: { value: string }): DeviceLoginRecord => JSON.parse(row.value) as DeviceLoginRecord;

const sameMembers = (a: IncidentRecord | undefined, b: IncidentRecord | undefined) => JSON.stringify(a?.members) === JSON.stringify(b?.members);

export async function openPgMetadata(pool: pg.Pool, feed: CatalogFeed, options: PgMetadataOptions = {}): Promise<MetadataStore> {
  const { log } = options;
  const now = () => new Date().toISOString();
  /** Token id → last use noted here and not yet stored. */
  const pendingUses = new Map<string, string>();
  const opened: Array<Replica<unknown>> = [];
  const open = async <T>(o: ReplicaOptions<T>): Promise<Replica<T>> => {
    const r = await Replica.open<T>({ log, ...o });
    opened.push(r as Replica<unknown>);
    return r;
  };

  let users: Replica<UserRecord>;
  let tokens: Replica<ApiTokenRecord>;
  let sessions: Replica<SessionRecord>;
  let incidents: Replica<IncidentRecord>;
  try {
    users = await open<UserRecord>({
      feed,
      table: 'catalog_users',
      read: readByKey(pool, 'catalog_users', 'id'),
      decode: frozenRecord,
      indexes: { name: (u) => u.name, identity: (u) => (u.identity ? identityKey(u.identity) : undefined) },
      onRemoteChange(id, before, after) {
        // Groups decide which restricted incidents the user sees: a change closes what they lost.
        const groupsChanged = JSON.stringify(before?.groups) !== JSON.stringify(after?.groups);
        if (before && (before.role !== after?.role || before.deactivatedAt !== after?.deactivatedAt || groupsChanged)) feed.remoteAccessChanged({ userId: id });
      },
    });
    tokens = await open<ApiTokenRecord>({
      feed,
      table: 'catalog_tokens',
      read: readByKey(pool, 'catalog_tokens', 'id'),
      decode: (row) => {
        const token = JSON.parse(row.value) as ApiTokenRecord;
        // A use noted here and not yet written stays noted when another node's change is read.
        const used = pendingUses.get(token.id);
        if (used && (token.lastUsedAt ?? '') < used) token.lastUsedAt = used;
        return deepFreeze(token);
      },
      indexes: { hash: (t) => t.tokenHash },
      onRemoteChange(_id, before, after) {
        if (before && (!after || after.userId !== before.userId || after.tokenHash !== before.tokenHash)) feed.remoteAccessChanged({ userId: before.userId });
      },
    });
    sessions = await open<SessionRecord>({
      feed,
      table: 'catalog_sessions',
      read: readByKey(pool, 'catalog_sessions', 'token_hash'),
      decode: frozenRecord,
      onRemoteChange(_hash, before, after) {
        if (before && !after) feed.remoteAccessChanged({ userId: before.userId });
      },
    });
    incidents = await open<IncidentRecord>({
      feed,
      table: 'catalog_incidents',
      read: readByKey(pool, 'catalog_incidents', 'id'),
      decode: frozenRecord,
      onRemoteChange(id, before, after) {
        if (before && !sameMembers(before, after)) feed.remoteAccessChanged({ incidentId: id });
      },
    });
  } catch (err) {
    await Promise.all(opened.map((r) => r.close()));
    throw err;
  }

  async function insert(table: string, columns: Record<string, unknown>, record: object): Promise<StoredRow> {
    const value = JSON.stringify(record);
    const names = [...Object.keys(columns), 'value'];
    const params = [...Object.values(columns), value];
    const { rows } = await pool.query<{ pos: number; version: number }>(
      `INSERT INTO ${table} (${names.join(', ')}) VALUES (${names.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING pos, version`,
      params,
    );
    return { key: String(params[0]), pos: rows[0]!.pos, version: rows[0]!.version, value };
  }

  /** Merges `change` into the stored record (see updateRow); undefined if there is none. */
  async function update<T extends object>(replica: Replica<T>, table: string, id: string, change: object, fixed: (next: T) => T): Promise<T | undefined> {
    const held = replica.entry(id);
    const apply = (current: T) => fixed(merged(current, change));
    const result = await updateRow<T>(pool, table, 'id', id, held && { version: held.version, value: apply(held.value) }, apply);
    return result && replica.committed([result.row])[0];
  }

  /** Writes the last uses noted since the last flush: one statement for all, then one each for any stale. */
  let flushing: Promise<void> | undefined;
  async function flushUses(): Promise<void> {
    const batch = [...pendingUses].flatMap(([id, at]) => {
      const held = tokens.entry(id);
      if (!held) pendingUses.delete(id);
      return held ? [{ id, at, version: held.version, value: JSON.stringify(held.value) }] : [];
    });
    if (batch.length === 0) return;
    const { rows } = await pool.query<StoredRow>(
      `UPDATE catalog_tokens t SET value = u.value FROM unnest($1::text[], $2::bigint[], $3::json[]) AS u(id, version, value)
        WHERE t.id = u.id AND t.version = u.version RETURNING t.id AS key, t.pos, t.version, t.value::text AS value`,
      [batch.map((b) => b.id), batch.map((b) => b.version), batch.map((b) => b.value)],
    );
    const done = new Set(rows.map((r) => r.key));
    const written: StoredRow[] = [...rows];
    for (const b of batch.filter((x) => !done.has(x.id))) {
      // Changed since this node read it (another node wrote its own last use): merge with what is stored.
      const result = await updateRow<ApiTokenRecord>(pool, 'catalog_tokens', 'id', b.id, undefined, (t) => ((t.lastUsedAt ?? '') >= b.at ? undefined : { ...t, lastUsedAt: b.at }));
      if (result) written.push(result.row);
    }
    for (const b of batch) if (pendingUses.get(b.id) === b.at) pendingUses.delete(b.id);
    tokens.committed(written);
  }
  const flush = (): Promise<void> =>
    (flushing ??= flushUses()
      .catch((err) => log?.warn({ err: (err as Error).message }, 'could not write API tokens last uses; will retry'))
      .finally(() => (flushing = undefined)));
  const flusher = setInterval(() => void flush(), options.flushUsesMs ?? MINUTE_MS);
  flusher.unref();

  return {
    countUsers: () => users.size,
    listUsers: () => users.values(),
    userById: (id) => users.get(id),
    userByName: (name) => users.by('name', name),
    userByIdentity: (identity) => users.by('identity', identityKey(identity)),
    async addUser(user) {
      try {
        users.committed([await insert('catalog_users', { id: user.id, name: user.name, identity: user.identity ? identityKey(user.identity) : null }, user)]);
      } catch (err) {
        const e = err as { code?: string; constraint?: string };
        if (e.code === '23505' && e.constraint === 'catalog_users_identity_key') {
          throw new DuplicateIdentityError(`an account for ${user.identity!.subject} at ${user.identity!.issuer} exists already`);
        }
        throw err;
      }
    },
    updateUser: (id, change) => update(users, 'catalog_users', id, change, (u) => ({ ...u, id })),

    async addToken(token) {
      tokens.committed([await insert('catalog_tokens', { id: token.id, token_hash: token.tokenHash, user_id: token.userId }, token)]);
    },
    tokenByHash: (hash) => tokens.by('hash', hash),
    tokensOf: (userId) => tokens.values().filter((t) => t.userId === userId),
    async removeTokens(which) {
      const [column, value] = 'id' in which ? (['id', which.id] as const) : (['user_id', which.userId] as const);
      const { rows } = await pool.query<StoredRow>(`DELETE FROM catalog_tokens WHERE ${column} = $1 RETURNING id AS key, pos, version, value::text AS value`, [value]);
      rows.sort((a, b) => a.pos - b.pos);
      // As held here: with a last use noted and not yet written.
      const removed = rows.map((row) => tokens.get(row.key) ?? frozenRecord<ApiTokenRecord>(row));
      tokens.committed([], rows.map((r) => r.key));
      for (const r of rows) pendingUses.delete(r.key);
      return removed;
    },
    tokenUsed(id) {
      const token = tokens.get(id);
      // To the minute: a script calling every second must not write every second.
      if (!token || Date.parse(token.lastUsedAt ?? '') > Date.now() - MINUTE_MS) return;
      const at = now();
      pendingUses.set(id, at);
      tokens.patch(id, deepFreeze({ ...token, lastUsedAt: at }));
    },

    async addSession(session) {
      const at = now();
      const expired = sessions.values().filter((s) => s.expiresAt <= at).map((s) => s.tokenHash);
      const value = JSON.stringify(session);
      // Expired sessions go with it, as from the embedded file.
      const { rows } = await pool.query<{ pos: number; version: number }>(
        `WITH expired AS (DELETE FROM catalog_sessions WHERE expires_at <= $5::timestamptz)
         INSERT INTO catalog_sessions (token_hash, user_id, expires_at, value) VALUES ($1, $2, $3::timestamptz, $4) RETURNING pos, version`,
        [session.tokenHash, session.userId, session.expiresAt, value, at],
      );
      sessions.committed([{ key: session.tokenHash, pos: rows[0]!.pos, version: rows[0]!.version, value }], expired);
    },
    sessionByTokenHash(hash) {
      const session = sessions.get(hash);
      return session && session.expiresAt > now() ? session : undefined;
    },
    async removeSession(hash) {
      await pool.query('DELETE FROM catalog_sessions WHERE token_hash = $1', [hash]);
      sessions.committed([], [hash]);
    },
    async removeSessionsOf(userId) {
      const { rows } = await pool.query<{ token_hash: string }>('DELETE FROM catalog_sessions WHERE user_id = $1 RETURNING token_hash', [userId]);
      const held = sessions.values().filter((s) => s.userId === userId).map((s) => s.tokenHash);
      sessions.committed([], [...new Set([...rows.map((r) => r.token_hash), ...held])]);
    },

    async addDeviceLogin(login) {
      await pool.query(
        `WITH expired AS (DELETE FROM device_logins WHERE expires_at <= now())
         INSERT INTO device_logins (device_hash, user_code, expires_at, value) VALUES ($1, $2, $3::timestamptz, $4)`,
        [login.deviceHash, login.userCode, login.expiresAt, JSON.stringify(login)],
      );
    },
    async deviceLoginByUserCode(userCode) {
      const { rows } = await pool.query<{ value: string }>('SELECT value::text AS value FROM device_logins WHERE user_code = $1 AND expires_at > $2::timestamptz', [userCode, now()]);
      return rows[0] && deviceLogin(rows[0]);
    },
    async approveDeviceLogin(userCode, userId) {
      // One statement: of two approvals at once, one finds it still unapproved.
      const { rows } = await pool.query<{ value: string }>(
        `UPDATE device_logins SET value = json_build_object('deviceHash', device_hash, 'userCode', user_code, 'createdAt', value->>'createdAt', 'expiresAt', value->>'expiresAt', 'approvedBy', $2::text),
           approved_by = $2 WHERE user_code = $1 AND expires_at > $3::timestamptz AND approved_by IS NULL RETURNING value::text AS value`,
        [userCode, userId, now()],
      );
      return rows[0] && deviceLogin(rows[0]);
    },
    async takeDeviceLogin(deviceHash) {
      const taken = await pool.query<{ value: string }>(
        'DELETE FROM device_logins WHERE device_hash = $1 AND expires_at > $2::timestamptz AND approved_by IS NOT NULL RETURNING value::text AS value',
        [deviceHash, now()],
      );
      if (taken.rows[0]) return deviceLogin(taken.rows[0]);
      const { rows } = await pool.query<{ value: string }>('SELECT value::text AS value FROM device_logins WHERE device_hash = $1 AND expires_at > $2::timestamptz', [deviceHash, now()]);
      return rows[0] && deviceLogin(rows[0]);
    },

    listIncidents: () => incidents.values(),
    incidentById: (id) => incidents.get(id),
    async addIncident(incident) {
      incidents.committed([await insert('catalog_incidents', { id: incident.id }, incident)]);
    },
    updateIncident: (id, change) => update(incidents, 'catalog_incidents', id, change, (i) => ({ ...i, id })),

    async close() {
      clearInterval(flusher);
      await flushing;
      await flush();
      await Promise.all(opened.map((r) => r.close()));
    },
  };
}
