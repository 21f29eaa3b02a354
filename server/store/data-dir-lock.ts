/**
 * One server per DATA_DIR. Two processes appending to the same update logs would interleave records,
 * so a second start is refused. The lock file holds the owner's pid; a lock left by a process that no
 * longer runs (a crash, SIGKILL, also one not yet reaped) is taken over.
 */
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';

export class DataDirLockedError extends Error {}

export interface DataDirLock {
  release(): void;
}

function isRunning(pid: number): boolean {
  if (pid === process.pid) return false; // our own pid from an earlier life in this container
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !isDead(pid);
}

/**
 * A process killed (kill -9) but not yet reaped by its parent still answers kill(pid, 0) as a zombie
 * (Linux: state Z in /proc/<pid>/stat), though it holds nothing. Elsewhere kill(pid, 0) alone decides.
 */
function isDead(pid: number): boolean {
  if (process.platform !== 'linux') return false;
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT'; // reaped since kill(pid, 0)
  }
  // "pid (command) state …": the command may hold spaces and parentheses, so read after the last ')'.
  const state = stat.charAt(stat.lastIndexOf(')') + 2);
  return state === 'Z' || state === 'X';
}

/** Directories this process holds: a lock file with our own pid is only stale if it is not one of these. */
const heldHere = new Set<string>();

export function lockDataDir(dataDir: string): DataDirLock {
  const file = path.join(dataDir, 'LOCK');
  if (heldHere.has(file)) {
    throw new DataDirLockedError(`DATA_DIR ${dataDir} is in use by another Bridgelog server (pid ${process.pid}, this process).`);
  }
  const body = JSON.stringify({ pid: process.pid, host: os.hostname(), since: new Date().toISOString() });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, body, { flag: 'wx', mode: 0o600 });
      heldHere.add(file);
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          heldHere.delete(file);
          fs.rmSync(file, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let owner: { pid?: number; host?: string } = {};
      try {
        owner = JSON.parse(fs.readFileSync(file, 'utf8'));
      } catch {
        // unreadable lock: written by a process killed mid-write; treat as stale
      }
      const sameHost = !owner.host || owner.host === os.hostname();
      if (typeof owner.pid === 'number' && (!sameHost || isRunning(owner.pid))) {
        throw new DataDirLockedError(
          `DATA_DIR ${dataDir} is in use by another Bridgelog server (pid ${owner.pid} on ${owner.host}). ` +
            `Stop it first, or point DATA_DIR elsewhere. If it is truly gone, remove ${file}.`,
        );
      }
      fs.rmSync(file, { force: true });
    }
  }
  throw new DataDirLockedError(`could not take the lock ${file}`);
}
