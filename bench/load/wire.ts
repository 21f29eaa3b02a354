/**
 * The load generators' view of the wire: just enough framing to speak to the three servers without
 * decoding Yjs. Bridgelog and the reference y-websocket server speak plain y-websocket; Hocuspocus
 * prefixes every message with the document's name (a varString) and wants an auth message first.
 *
 * Updates are matched to their sender by a marker the writer types into a Y.Text —
 * `~w<writer>#<seq>@<sent ms>~`. Yjs writes inserted strings verbatim into the update, so a reader
 * finds the marker with a byte search and computes latency from the send time it carries.
 */
import * as encoding from 'lib0/encoding';

export type Flavor = 'y-websocket' | 'hocuspocus';

/** Where a client connects: a socket URL, and the document it talks about. */
export interface Target {
  url: string;
  flavor: Flavor;
  doc: string;
}

/** Milliseconds on a clock shared by every process on the machine (wall-clock origin + monotonic). */
export const now = () => performance.timeOrigin + performance.now();

// y-websocket message types and sync steps (y-protocols), Hocuspocus's auth and sync-status types,
// Bridgelog's "persisted".
const SYNC = 0;
const AUTH = 2;
const SYNC_STATUS = 8;
const STEP1 = 0;
const STEP2 = 1;
const UPDATE = 2;
const PERSISTED = 100;

/**
 * `persisted`: Bridgelog's durability acknowledgement (message 100, the durable state vector).
 * `synced`: Hocuspocus's "update applied" acknowledgement (SyncStatus, true), one per update received,
 * sent once the update is in the server's memory — what its provider counts `unsyncedChanges` down by.
 */
export type Incoming = 'update' | 'state' | 'persisted' | 'synced' | 'other';

export class Wire {
  private readonly prefix: Uint8Array;

  constructor(readonly target: Target) {
    const e = encoding.createEncoder();
    if (target.flavor === 'hocuspocus') encoding.writeVarString(e, target.doc);
    this.prefix = encoding.toUint8Array(e);
  }

  /** Where the y-websocket message starts in a frame (after Hocuspocus's document name). */
  get offset(): number {
    return this.prefix.length;
  }

  private frame(write: (e: encoding.Encoder) => void): Uint8Array {
    const e = encoding.createEncoder();
    encoding.writeUint8Array(e, this.prefix);
    write(e);
    return encoding.toUint8Array(e);
  }

  /** What a client sends on opening: "send me everything" (sync step 1, empty state vector). */
  hello(): Uint8Array[] {
    const step1 = this.frame((e) => (encoding.writeVarUint(e, SYNC), encoding.writeVarUint(e, STEP1), encoding.writeVarUint8Array(e, Uint8Array.of(0))));
    if (this.target.flavor !== 'hocuspocus') return [step1];
    // Hocuspocus queues everything until a token arrives; with no onAuthenticate hook any token passes.
    const auth = this.frame((e) => (encoding.writeVarUint(e, AUTH), encoding.writeVarUint(e, 0), encoding.writeVarString(e, 'bench')));
    return [auth, step1];
  }

  update(update: Uint8Array): Uint8Array {
    return this.frame((e) => (encoding.writeVarUint(e, SYNC), encoding.writeVarUint(e, UPDATE), encoding.writeVarUint8Array(e, update)));
  }

  /** What a frame from the server is, from its first two bytes after the prefix. */
  classify(data: Buffer): Incoming {
    const o = this.prefix.length;
    if (data[o] === PERSISTED) return 'persisted';
    if (this.target.flavor === 'hocuspocus' && data[o] === SYNC_STATUS) return data[o + 1] === 1 ? 'synced' : 'other';
    if (data[o] !== SYNC) return 'other';
    if (data[o + 1] === UPDATE) return 'update';
    if (data[o + 1] === STEP2) return 'state';
    return 'other';
  }
}

export const marker = (writer: number, seq: number, sentAt: number) => `~w${writer}#${seq}@${sentAt.toFixed(3)}~`;

const MARK = Buffer.from('~w');
const HASH = 0x23;
const AT = 0x40;
const TILDE = 0x7e;

/** Reads the decimal digits at `i`; -1 if there are none. */
function digitsEnd(buf: Buffer, i: number): number {
  let j = i;
  while (j < buf.length && buf[j]! >= 0x30 && buf[j]! <= 0x39) j++;
  return j > i ? j : -1;
}

/** Calls `found` for each marker in `buf`. Bytes that merely look like a marker's start are skipped. */
export function forEachMarker(buf: Buffer, found: (writer: number, seq: number, sentAt: number) => void): void {
  for (let i = buf.indexOf(MARK); i !== -1; i = buf.indexOf(MARK, i + 1)) {
    const w = digitsEnd(buf, i + 2);
    if (w < 0 || buf[w] !== HASH) continue;
    const s = digitsEnd(buf, w + 1);
    if (s < 0 || buf[s] !== AT) continue;
    const end = buf.indexOf(TILDE, s + 1);
    if (end < 0 || end - s > 24) continue;
    const sentAt = Number(buf.toString('latin1', s + 1, end));
    if (Number.isNaN(sentAt)) continue;
    found(Number(buf.toString('latin1', i + 2, w)), Number(buf.toString('latin1', w + 1, s)), sentAt);
  }
}
