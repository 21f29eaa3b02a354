/**
 * Entries on their way to the server, kept on this machine until it has them: one directory per
 * entry under `BRIDGELOG_HOME/queue/`, holding `entry.json` and the files to attach. Every entry
 * passes through here, so a crash or a server that is down loses nothing; delivery removes it.
 *
 * A lock file (pid and host) stops two bridgelog processes from delivering the same entry.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { EntryKind, Verdict } from '../shared/schema/doc.js';
import type { ClockOffset } from '../shared/clock.js';
import { CliError } from './errors.js';

export interface QueuedFile {
  /** Where the file is: relative to the entry's directory, or absolute for a file attached from elsewhere. */
  path: string;
  /** Its name on the server. */
  name: string;
  /** Set once uploaded, so that a retry does not upload it again. */
  attachmentId?: string;
}

/** What `bridgelog run` saw, in this machine's clock. */
export interface RunRecord {
  host: string;
  durationMs: number;
  exitCode: number;
  signal?: string;
  stdoutBytes: number;
  stderrBytes: number;
  lastLines: string[];
  totalLines: number;
}

export interface QueuedEntry {
  version: 1;
  /** The entry's id in the document, chosen once: a retry can never log it twice. */
  entryId: string;
  /** The server it is for (entries wait for their own server). */
  server: string;
  incidentId: string;
  kind: EntryKind;
  title: string;
  command?: string;
  /** Markdown written by the person (`bridgelog log "text"`). */
  text?: string;
  conclusion?: string;
  /** A hypothesis id or words of its statement. */
  hypothesis?: { ref: string; verdict: Verdict };
  /** When it was run or written, this machine's clock (ms since the epoch). */
  localRanAt: number;
  run?: RunRecord;
  /** This machine's clock against the server's, measured when the server was first reached. */
  clockOffset?: ClockOffset;
  files: QueuedFile[];
  /** Why the last delivery failed. */
  lastError?: string;
}

export interface QueueItem {
  dir: string;
  entry: QueuedEntry;
}

interface LockOwner {
  pid: number;
  host: string;
  at: number;
}

/** A lock older than this is stale even when its process cannot be checked (another host). */
const LOCK_MAX_AGE_MS = 60 * 60_000;
const ENTRY_FILE = 'entry.json';
const LOCK_FILE = 'lock';

export class EntryQueue {
  readonly dir: string;
  private readonly stagingDir: string;

  constructor(home: string) {
    this.dir = path.join(home, 'queue');
    this.stagingDir = path.join(home, 'staging');
  }

  /** A fresh directory for an entry being prepared, outside the queue (a run writes its output there). */
  stage(entryId: string): string {
    const dir = path.join(this.stagingDir, entryId);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    return dir;
  }

  /** Moves a prepared entry into the queue, locked by this process so that it is the one to deliver it. */
  enqueue(entry: QueuedEntry, stagedDir = this.stage(entry.entryId)): QueueItem {
    writeJson(path.join(stagedDir, ENTRY_FILE), entry);
    writeJson(path.join(stagedDir, LOCK_FILE), ownLock());
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const dir = path.join(this.dir, entry.entryId);
    fs.renameSync(stagedDir, dir);
    return { dir, entry };
  }

  /** Every queued entry, oldest first. */
  list(): QueueItem[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const items: QueueItem[] = [];
    for (const name of names) {
      const dir = path.join(this.dir, name);
      const entry = readJson<QueuedEntry>(path.join(dir, ENTRY_FILE));
      if (entry?.version === 1) items.push({ dir, entry });
    }
    return items.sort((a, b) => a.entry.localRanAt - b.entry.localRanAt || a.entry.entryId.localeCompare(b.entry.entryId));
  }

  /** Takes the item's lock; false when another live bridgelog process holds it. */
  lock(item: QueueItem): boolean {
    const file = path.join(item.dir, LOCK_FILE);
    const owner = readJson<LockOwner>(file);
    if (owner && owner.pid === process.pid && owner.host === os.hostname()) return true;
    if (owner && !isStale(owner)) return false;
    fs.rmSync(file, { force: true });
    try {
      fs.writeFileSync(file, JSON.stringify(ownLock()), { flag: 'wx' });
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false; // another process was quicker
      throw err;
    }
  }

  unlock(item: QueueItem): void {
    fs.rmSync(path.join(item.dir, LOCK_FILE), { force: true });
  }

  /** Records progress (clock offset, uploaded attachments, the last error) so a retry starts from there. */
  save(item: QueueItem): void {
    writeJson(path.join(item.dir, ENTRY_FILE), item.entry);
  }

  /**
   * Makes the entry self-contained before it waits: files attached from elsewhere are linked (or,
   * across file systems, copied) into its directory, so moving or deleting the original loses nothing.
   */
  keepFiles(item: QueueItem): void {
    item.entry.files.forEach((file, i) => {
      if (file.attachmentId || !path.isAbsolute(file.path)) return;
      const kept = `${i}-${path.basename(file.path)}`;
      try {
        fs.linkSync(file.path, path.join(item.dir, kept));
      } catch {
        fs.copyFileSync(file.path, path.join(item.dir, kept), fs.constants.COPYFILE_FICLONE);
      }
      file.path = kept;
    });
    this.save(item);
  }

  filePath(item: QueueItem, file: QueuedFile): string {
    return path.resolve(item.dir, file.path);
  }

  remove(item: QueueItem): void {
    fs.rmSync(item.dir, { recursive: true, force: true });
  }

  /** Drops an entry by id (or a unique prefix of it); returns the dropped entry. */
  drop(idPrefix: string): QueuedEntry {
    const matches = this.list().filter((i) => i.entry.entryId.startsWith(idPrefix));
    if (matches.length !== 1) {
      throw new CliError(matches.length === 0 ? `no queued entry ${idPrefix} (see \`bridgelog queue\`)` : `${idPrefix} matches ${matches.length} queued entries: give more of the id`);
    }
    this.remove(matches[0]!);
    return matches[0]!.entry;
  }
}

function ownLock(): LockOwner {
  return { pid: process.pid, host: os.hostname(), at: Date.now() };
}

function isStale(owner: LockOwner): boolean {
  if (Date.now() - owner.at > LOCK_MAX_AGE_MS) return true;
  if (owner.host !== os.hostname()) return false;
  try {
    process.kill(owner.pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Written whole, then renamed: a crash leaves the old file or the new one, never half of one. */
function writeJson(file: string, value: unknown): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n', { mode: 0o600 });
  fs.renameSync(tmp, file);
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined; // missing, or torn by a crash: treated as absent
  }
}
