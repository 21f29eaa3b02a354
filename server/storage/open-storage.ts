/** Opens the storage the configuration names: PostgreSQL when DATABASE_URL is set, else the files under DATA_DIR. */
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { openEmbeddedStorage } from './embedded/open-embedded.js';
import { openPostgresStorage } from './postgres/open-postgres.js';
import type { Storage } from './storage.js';

export function openStorage(config: Config, log: Logger): Promise<Storage> {
  if (config.databaseUrl) return openPostgresStorage(config, log);
  return openEmbeddedStorage(config.dataDir, log);
}
