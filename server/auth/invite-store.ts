/**
 * Invite links, durable: the embedded default keeps them in DATA_DIR/invites.json (this file), the
 * PostgreSQL mode in the `invites` table (storage/postgres/pg-invites.ts). Only a link's SHA-256 is
 * stored. Redeeming is the one step that must be atomic: two people opening one link at once (or on
 * two nodes) get one account between them, never two.
 */
import path from 'node:path';
import { Low } from 'lowdb';
import type { Role } from '../../shared/model.js';
import { DurableJsonFile } from '../store/metadata.js';

export interface InviteRecord {
  id: string;
  tokenHash: string;
  role: Role;
  /** The admin's user id. */
  createdBy: string;
  createdAt: string;
  expiresAt: string;
  usedAt?: string;
  /** The user id of the account made with it. */
  usedBy?: string;
}

export type Redeemed = { ok: true; invite: InviteRecord } | { ok: false; reason: 'unknown' | 'used' | 'expired' };

export interface InviteStore {
  add(invite: InviteRecord): Promise<void>;
  /** Every invite, oldest first (used and expired ones too: who invited whom stays visible). */
  list(): Promise<InviteRecord[]>;
  byTokenHash(hash: string): Promise<InviteRecord | undefined>;
  /**
   * Marks the invite used by `userId`, if it exists, is unused and has not expired at `now`; at most
   * one caller ever gets `ok` for an invite.
   */
  redeem(hash: string, userId: string, now: string): Promise<Redeemed>;
  /** Undoes a redemption whose account could not be created after all (the link works again). */
  release(id: string, userId: string): Promise<void>;
  /** Deletes an invite (revoking an unused link); false if there was none. */
  remove(id: string): Promise<boolean>;
  close(): Promise<void>;
}

/** Why an invite that is not redeemable is not, from the record as stored (shared by both stores). */
export function whyNot(invite: InviteRecord | undefined, now: string): Redeemed | undefined {
  if (!invite) return { ok: false, reason: 'unknown' };
  if (invite.usedAt) return { ok: false, reason: 'used' };
  if (invite.expiresAt <= now) return { ok: false, reason: 'expired' };
  return undefined;
}

interface Data {
  version: 1;
  invites: InviteRecord[];
}

const isData = (d: unknown): d is Data =>
  typeof d === 'object' && d !== null && (d as Data).version === 1 && Array.isArray((d as Data).invites);

export async function openEmbeddedInvites(dataDir: string): Promise<InviteStore> {
  const adapter = new DurableJsonFile<Data>(path.join(dataDir, 'invites.json'), isData);
  const db = new Low<Data>(adapter, { version: 1, invites: [] });
  await db.read();
  const data = db.data;
  const copy = (i: InviteRecord): InviteRecord => ({ ...i });
  return {
    async add(invite) {
      data.invites.push(copy(invite));
      await db.write();
    },
    list: async () => data.invites.map(copy),
    byTokenHash: async (hash) => {
      const found = data.invites.find((i) => i.tokenHash === hash);
      return found && copy(found);
    },
    async redeem(hash, userId, now) {
      // Checked and marked with no await between: one process, so nobody else can come in between.
      const invite = data.invites.find((i) => i.tokenHash === hash);
      const refused = whyNot(invite, now);
      if (refused) return refused;
      invite!.usedAt = now;
      invite!.usedBy = userId;
      await db.write();
      return { ok: true, invite: copy(invite!) };
    },
    async release(id, userId) {
      const invite = data.invites.find((i) => i.id === id && i.usedBy === userId);
      if (!invite) return;
      delete invite.usedAt;
      delete invite.usedBy;
      await db.write();
    },
    async remove(id) {
      const before = data.invites.length;
      data.invites = data.invites.filter((i) => i.id !== id);
      if (data.invites.length === before) return false;
      await db.write();
      return true;
    },
    close: () => adapter.drain(),
  };
}
