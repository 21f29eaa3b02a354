/**
 * Metadata: users, sessions and incidents. Small, rarely written data; the hot path (document
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
import { writeFileAtomic } from './durable-file.js';

export interface UserRecord {
  id: string;
  name: string;
  role: Role;
  passwordHash?: string;
  tokenHash: string;
  createdAt: string;
}

export interface SessionRecord {
  tokenHash: string;
  userId: string;
  createdAt: string;
  expiresAt: string;
}

/** Stored as the API presents it (shared/api.ts); the store is the only writer. */
export type IncidentRecord = Incident;

export interface MetadataStore {
  countUsers(): number;
  listUsers(): UserRecord[];
  userById(id: string): UserRecord | undefined;
  userByName(name: string): UserRecord | undefined;
  userByTokenHash(hash: string): UserRecord | undefined;
  addUser(user: UserRecord): Promise<void>;

  addSession(session: SessionRecord): Promise<void>;
  sessionByTokenHash(hash: string): SessionRecord | undefined;
  removeSession(hash: string): Promise<void>;

  listIncidents(): IncidentRecord[];
  incidentById(id: string): IncidentRecord | undefined;
  addIncident(incident: IncidentRecord): Promise<void>;
  updateIncident(id: string, change: Partial<Omit<IncidentRecord, 'id'>>): Promise<IncidentRecord | undefined>;

  close(): Promise<void>;
}

interface Data {
  version: 1;
  users: UserRecord[];
  sessions: SessionRecord[];
  incidents: IncidentRecord[];
}

export class MetadataCorruptError extends Error {}

/** A lowdb adapter whose writes are atomic, fsync'd and serialized. */
export class DurableJsonFile<T> implements Adapter<T> {
  private queue: Promise<void> = Promise.resolve();

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
    const text = JSON.stringify(data, null, 1);
    const next = this.queue.then(() => writeFileAtomic(this.file, text));
    this.queue = next.catch(() => undefined);
    return next;
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
    Array.isArray(d.users) && Array.isArray(d.sessions) && Array.isArray(d.incidents)
  );
}

export async function openLowdbMetadata(file: string): Promise<MetadataStore> {
  const adapter = new DurableJsonFile<Data>(file, isData);
  const db = new Low<Data>(adapter, { version: 1, users: [], sessions: [], incidents: [] });
  await db.read();
  const fresh = (await fs.stat(file).catch(() => null)) === null;
  if (fresh) await db.write();
  const data = db.data;
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
    userByTokenHash: (hash) => data.users.find((u) => u.tokenHash === hash),
    async addUser(user) {
      data.users.push(user);
      await db.write();
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
      for (const key of ['members', 'alertMatchers'] as const) if (key in change && change[key] === undefined) delete incident[key];
      await db.write();
      return incident;
    },

    close: () => adapter.drain(),
  };
}
