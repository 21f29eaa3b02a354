/** The IncidentLog contract, run against each implementation. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll } from 'vitest';
import { EmbeddedIncidentLogs } from '../../server/storage/embedded/embedded-incident-log.js';
import { describeIncidentLogContract } from './incident-log.contract.js';

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bridgelog-incident-log-'));
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));
const log = pino({ level: 'silent' });
let incidents = 0;

describeIncidentLogContract('embedded', () => ({
  create: () => new EmbeddedIncidentLogs(dataDir, log).create(`inc${++incidents}`),
  // A new process: nothing remembered of the files but what is on disk.
  reopen: async (old) => new EmbeddedIncidentLogs(dataDir, log).of(old.incidentId),
}));
