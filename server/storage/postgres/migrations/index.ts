/**
 * The PostgreSQL schema, as numbered migrations applied in order at start (migrate.ts). A migration
 * is never edited once released: a change to the schema is a new one at the end.
 */
import { log } from './001-log.js';
import { catalog } from './002-catalog.js';
import { blobs } from './003-blobs.js';
import { jobs } from './004-jobs.js';
import { notifications } from './006-notifications.js';
import { search } from './005-search.js';
import { signIn } from './007-sign-in.js';
import { invites } from './008-invites.js';

export interface Migration {
  id: number;
  name: string;
  sql: string;
}

export const migrations: Migration[] = [log, catalog, blobs, jobs, search, notifications, signIn, invites];
