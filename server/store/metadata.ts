/**
 * Metadata: users, their API tokens and sessions, and incidents. Small, rarely written data; the hot path (document
 * updates) never touches it. Behind the MetadataStore interface so the scale-out mode can put it in
 * PostgreSQL.
 *
 * The embedded default is lowdb over DurableJsonFile: lowdb rewrites the whole file on every write
 * and does not fsync, so the adapter writes atomically and durably, one write at a time, and refuses
 * to start on an empty or corrupt file instead of silently starting over with defaults.
 */
import fs from 'node:fs/promises';
import { Low, type Adapter } from 'lowdb';
import type { Incident, Role } from '../../shared/api.js';
import { newId } from '../../shared/schema/doc.js';
import { writeFileAtomic } from './durable-file.js';

export interface UserRecord {
  id: string;
  name: string;
  role: Role;
  passwordHash?: string;
  createdAt: string;
  /** Set when an admin removed the user: they can no longer sign in; their name stays in the history. */
  deactivatedAt?: string;
  /**
   * `groups`: deactivated by a sign-in whose IdP groups gave no role (auth/oidc-accounts.ts), so a later
   * sign-in with an allowed group brings the account back; unset, an admin did it, and only an admin undoes it.
   */
  deactivatedBy?: 'groups';
  /** An account from the organisation's identity provider: who it is there (never matched by name). */
  identity?: UserIdentity;
  /** From the IdP's claims, updated at each sign-in. */
  displayName?: string;
  email?: string;
  /** The IdP groups at the last sign-in: restricted incidents may name them as members (`group:<name>`). */
  groups?: string[];
}

/** An OpenID Connect identity: stable per issuer (`sub`), unlike names and emails. */
export interface UserIdentity {
  issuer: string;
  subject: string;
}

/** What a sign-in at the IdP may change on an account (and an admin its role and activity). */
export type UserChange = Partial<Pick<UserRecord, 'role' | 'deactivatedAt' | 'deactivatedBy' | 'displayName' | 'email' | 'groups'>>;

/**
 * `bridgelog login`: a sign-in started by the CLI, approved in a browser by a signed-in user, then
 * taken once by the CLI that holds the device code (only its hash is stored). Minutes long.
 */
export interface DeviceLoginRecord {
  deviceHash: string;
  /** Short, typed or compared by a person (`ABCD-EFGH`). */
  userCode: string;
  createdAt: string;
  expiresAt: string;
  /** The user who approved it in the browser; until then the CLI waits. */
  approvedBy?: string;
}

/** An API token (scripts, the CLI); only its hash is stored. */
export interface ApiTokenRecord {
  id: string;
  userId: string;
  name: string;
  tokenHash: string;
  createdAt: string;
  /** When it was last used, to the minute (kept in memory, written with the next change). */
  lastUsedAt?: string;
}

export interface SessionRecord {
  tokenHash: string;
  userId: string;
  createdAt: string;
  expiresAt: string;
  /** `oidc`: started by a sign-in at the identity provider (logout then ends the IdP's session too). */
  via?: 'oidc';
}

/** Stored as the API presents it (shared/api.ts); the store is the only writer. */
export type IncidentRecord = Incident;

export interface MetadataStore {
  countUsers(): number;
  listUsers(): UserRecord[];
  userById(id: string): UserRecord | undefined;
  userByName(name: string): UserRecord | undefined;
  /** The account of this IdP identity; two accounts never share one (addUser refuses the second). */
  userByIdentity(identity: UserIdentity): UserRecord | undefined;
  addUser(user: UserRecord): Promise<void>;
  /** Merges `change`; a field set to undefined is removed. */
  updateUser(id: string, change: UserChange): Promise<UserRecord | undefined>;

  addToken(token: ApiTokenRecord): Promise<void>;
  tokenByHash(hash: string): ApiTokenRecord | undefined;
  tokensOf(userId: string): ApiTokenRecord[];
  /** Removes one token, or (`userId`) every token of a user; returns those removed. */
  removeTokens(which: { id: string } | { userId: string }): Promise<ApiTokenRecord[]>;
  /** Notes that a token was used now (in memory; written with the next change). */
  tokenUsed(id: string): void;

  addSession(session: SessionRecord): Promise<void>;
  sessionByTokenHash(hash: string): SessionRecord | undefined;
  removeSession(hash: string): Promise<void>;
  removeSessionsOf(userId: string): Promise<void>;

  addDeviceLogin(login: DeviceLoginRecord): Promise<void>;
  /** A device login not yet expired nor taken, by its user code. */
  deviceLoginByUserCode(userCode: string): Promise<DeviceLoginRecord | undefined>;
  /** Marks a pending, unexpired, unapproved device login approved by `userId`; undefined if it is not one. */
  approveDeviceLogin(userCode: string, userId: string): Promise<DeviceLoginRecord | undefined>;
  /**
   * The device login of this hash if unexpired: removed and returned once approved (one caller gets
   * it, ever), returned and kept while pending; undefined when there is none (or it expired).
   */
  takeDeviceLogin(deviceHash: string): Promise<DeviceLoginRecord | undefined>;

  listIncidents(): IncidentRecord[];
  incidentById(id: string): IncidentRecord | undefined;
  addIncident(incident: IncidentRecord): Promise<void>;
  updateIncident(id: string, change: Partial<Omit<IncidentRecord, 'id'>>): Promise<IncidentRecord | undefined>;

  close(): Promise<void>;
}

interface Data {
  version: 1;
  users: UserRecord[];
  /** Absent in files written before tokens were their own records (see `moveTokensOutOfUsers`). */
  tokens: ApiTokenRecord[];
  sessions: SessionRecord[];
  incidents: IncidentRecord[];
  /** Absent in files written before `bridgelog login` could sign in through a browser. */
  deviceLogins?: DeviceLoginRecord[];
}

export class MetadataCorruptError extends Error {}

/**
 * A lowdb adapter whose writes are atomic, fsync'd and serialized, and group-committed: writes asked
 * for while one is on its way to disk are made together by the next, which serializes the data as it
 * is then. A burst of changes (a webhook storm, many logins) costs one serialization and one fsync per
 * round trip to the disk, not one each; each caller still resolves only once its change is durable.
 */
export class DurableJsonFile<T> implements Adapter<T> {
  private queue: Promise<void> = Promise.resolve();
  /** The next write, not started yet: later callers join it. */
  private next: { data: T; done: Promise<void> } | undefined;

  constructor(
    private readonly file: string,
    private readonly validate: (data: unknown) => data is T,
  ) {}

  async read(): Promise<T | null> {
    let text: string;
    try {
      text = await fs.readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    const hint = 'Restore it from a backup, or move it aside to start with no users and no incidents.';
    if (text.trim() === '') throw new MetadataCorruptError(`metadata file ${this.file} is empty. ${hint}`);
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (err) {
      throw new MetadataCorruptError(`metadata file ${this.file} is not valid JSON (${(err as Error).message}). ${hint}`);
    }
    if (!this.validate(data)) throw new MetadataCorruptError(`metadata file ${this.file} has an unknown shape. ${hint}`);
    return data;
  }

  write(data: T): Promise<void> {
    if (this.next) {
      this.next.data = data;
      return this.next.done;
    }
    const next: { data: T; done: Promise<void> } = { data, done: Promise.resolve() };
    next.done = this.queue.then(() => {
      this.next = undefined;
      return writeFileAtomic(this.file, JSON.stringify(next.data, null, 1));
    });
    this.next = next;
    this.queue = next.done.catch(() => undefined);
    return next.done;
  }

  /** Resolves when every write issued so far is on disk. */
  drain(): Promise<void> {
    return this.queue;
  }
}

function isData(data: unknown): data is Data {
  const d = data as Data;
  return (
    typeof d === 'object' && d !== null && d.version === 1 &&
    Array.isArray(d.users) && Array.isArray(d.sessions) && Array.isArray(d.incidents) &&
    (d.tokens === undefined || Array.isArray(d.tokens))
  );
}

/** Earlier files kept one token per user, on the user: it becomes that user's first token record. */
function moveTokensOutOfUsers(data: Data): boolean {
  if (Array.isArray(data.tokens)) return false;
  data.tokens = [];
  for (const user of data.users as Array<UserRecord & { tokenHash?: string }>) {
    if (user.tokenHash) data.tokens.push({ id: newId(), userId: user.id, name: 'created with the account', tokenHash: user.tokenHash, createdAt: user.createdAt });
    delete user.tokenHash;
  }
  return true;
}

const MINUTE_MS = 60_000;

const identityKey = (i: UserIdentity) => `${i.issuer}\n${i.subject}`;

export class DuplicateIdentityError extends Error {}

export async function openLowdbMetadata(file: string): Promise<MetadataStore> {
  const adapter = new DurableJsonFile<Data>(file, isData);
  const db = new Low<Data>(adapter, { version: 1, users: [], tokens: [], sessions: [], incidents: [] });
  await db.read();
  const fresh = (await fs.stat(file).catch(() => null)) === null;
  if (moveTokensOutOfUsers(db.data) || fresh) await db.write();
  const data = db.data;
  const tokensByHash = new Map(data.tokens.map((t) => [t.tokenHash, t]));
  const now = () => new Date().toISOString();
  const pruneSessions = () => {
    const t = now();
    data.sessions = data.sessions.filter((s) => s.expiresAt > t);
  };

  return {
    countUsers: () => data.users.length,
    listUsers: () => data.users,
    userById: (id) => data.users.find((u) => u.id === id),
    userByName: (name) => data.users.find((u) => u.name === name),
    userByIdentity: (identity) => data.users.find((u) => u.identity && identityKey(u.identity) === identityKey(identity)),
    async addUser(user) {
      if (user.identity && data.users.some((u) => u.identity && identityKey(u.identity) === identityKey(user.identity!))) {
        throw new DuplicateIdentityError(`an account for ${user.identity.subject} at ${user.identity.issuer} exists already`);
      }
      data.users.push(user);
      await db.write();
    },
    async updateUser(id, change) {
      const user = data.users.find((u) => u.id === id);
      if (!user) return undefined;
      Object.assign(user, change);
      for (const key of Object.keys(change) as Array<keyof UserChange>) if (change[key] === undefined) delete (user as Partial<UserRecord>)[key];
      await db.write();
      return user;
    },

    async addToken(token) {
      data.tokens.push(token);
      tokensByHash.set(token.tokenHash, token);
      await db.write();
    },
    tokenByHash: (hash) => tokensByHash.get(hash),
    tokensOf: (userId) => data.tokens.filter((t) => t.userId === userId),
    async removeTokens(which) {
      const removed = data.tokens.filter((t) => ('id' in which ? t.id === which.id : t.userId === which.userId));
      if (removed.length === 0) return [];
      data.tokens = data.tokens.filter((t) => !removed.includes(t));
      for (const t of removed) tokensByHash.delete(t.tokenHash);
      await db.write();
      return removed;
    },
    tokenUsed(id) {
      const token = data.tokens.find((t) => t.id === id);
      // To the minute: a script calling every second must not rewrite the file every second.
      if (token && Date.parse(token.lastUsedAt ?? '') > Date.now() - MINUTE_MS) return;
      if (token) token.lastUsedAt = now();
    },

    async addSession(session) {
      pruneSessions();
      data.sessions.push(session);
      await db.write();
    },
    sessionByTokenHash: (hash) => data.sessions.find((s) => s.tokenHash === hash && s.expiresAt > now()),
    async removeSession(hash) {
      data.sessions = data.sessions.filter((s) => s.tokenHash !== hash);
      await db.write();
    },
    async removeSessionsOf(userId) {
      data.sessions = data.sessions.filter((s) => s.userId !== userId);
      await db.write();
    },

    async addDeviceLogin(login) {
      const t = now();
      data.deviceLogins = (data.deviceLogins ?? []).filter((d) => d.expiresAt > t);
      data.deviceLogins.push(login);
      await db.write();
    },
    deviceLoginByUserCode: async (userCode) => data.deviceLogins?.find((d) => d.userCode === userCode && d.expiresAt > now()),
    async approveDeviceLogin(userCode, userId) {
      const login = data.deviceLogins?.find((d) => d.userCode === userCode && d.expiresAt > now() && !d.approvedBy);
      if (!login) return undefined;
      login.approvedBy = userId;
      await db.write();
      return { ...login };
    },
    async takeDeviceLogin(deviceHash) {
      const login = data.deviceLogins?.find((d) => d.deviceHash === deviceHash && d.expiresAt > now());
      if (!login?.approvedBy) return login && { ...login };
      data.deviceLogins = data.deviceLogins!.filter((d) => d !== login);
      await db.write();
      return login;
    },

    listIncidents: () => data.incidents,
    incidentById: (id) => data.incidents.find((i) => i.id === id),
    async addIncident(incident) {
      data.incidents.push(incident);
      await db.write();
    },
    async updateIncident(id, change) {
      const incident = data.incidents.find((i) => i.id === id);
      if (!incident) return undefined;
      Object.assign(incident, change);
      // An optional field set to undefined is removed, not stored as null.
      for (const key of ['members', 'alertMatchers', 'milestones'] as const) if (key in change && change[key] === undefined) delete incident[key];
      await db.write();
      return incident;
    },

    close: () => adapter.drain(),
  };
}
