/**
 * A checkpoint: the document as it was after record `seq`, so loading does not replay the whole
 * log. It also carries where the log continues and the clientID → user bindings. Written
 * atomically; one that fails its checksum is ignored (the log alone can rebuild everything).
 *
 *   "BLCP" | u8 version | payload | u32le crc32(everything before)
 *   payload = varuint seq | float64 at | varuint logOffset | varuint n | n × (varuint clientId, varstring userId)
 *             | varuint8array docUpdate
 */
import fs from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import * as encoding from 'lib0/encoding';
import * as decoding from 'lib0/decoding';
import { writeFileAtomic } from '../store/durable-file.js';

export interface Checkpoint {
  /** Last record included. */
  seq: number;
  /** Receive time of that record (ms, UTC). */
  at: number;
  /** Byte offset in the update log just past that record. */
  logOffset: number;
  bindings: Map<number, string>;
  /** Y.encodeStateAsUpdate of the document after `seq`. */
  docUpdate: Uint8Array;
}

const MAGIC = 'BLCP';
const VERSION = 1;

export function encodeCheckpoint(cp: Checkpoint): Buffer {
  const enc = encoding.createEncoder();
  encoding.writeUint8Array(enc, Buffer.from(MAGIC, 'latin1'));
  encoding.writeUint8(enc, VERSION);
  encoding.writeVarUint(enc, cp.seq);
  encoding.writeFloat64(enc, cp.at);
  encoding.writeVarUint(enc, cp.logOffset);
  encoding.writeVarUint(enc, cp.bindings.size);
  for (const [clientId, userId] of cp.bindings) {
    encoding.writeVarUint(enc, clientId);
    encoding.writeVarString(enc, userId);
  }
  encoding.writeVarUint8Array(enc, cp.docUpdate);
  const body = encoding.toUint8Array(enc);
  const out = Buffer.allocUnsafe(body.length + 4);
  out.set(body, 0);
  out.writeUInt32LE(crc32(body), body.length);
  return out;
}

export function decodeCheckpoint(buf: Buffer): Checkpoint {
  if (buf.length < MAGIC.length + 5 || buf.toString('latin1', 0, 4) !== MAGIC) throw new Error('not a checkpoint');
  const body = buf.subarray(0, buf.length - 4);
  if (crc32(body) !== buf.readUInt32LE(buf.length - 4)) throw new Error('checkpoint checksum mismatch');
  const dec = decoding.createDecoder(body);
  decoding.readUint8Array(dec, MAGIC.length);
  const version = decoding.readUint8(dec);
  if (version !== VERSION) throw new Error(`unknown checkpoint version ${version}`);
  const seq = decoding.readVarUint(dec);
  const at = decoding.readFloat64(dec);
  const logOffset = decoding.readVarUint(dec);
  const bindings = new Map<number, string>();
  for (let n = decoding.readVarUint(dec); n > 0; n--) {
    bindings.set(decoding.readVarUint(dec), decoding.readVarString(dec));
  }
  return { seq, at, logOffset, bindings, docUpdate: decoding.readVarUint8Array(dec) };
}

/** Reads a checkpoint file; `undefined` if there is none, an error if it is unusable. */
export async function readCheckpoint(file: string): Promise<Checkpoint | undefined> {
  let buf: Buffer;
  try {
    buf = await fs.readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return decodeCheckpoint(buf);
}

export function writeCheckpoint(file: string, cp: Checkpoint): Promise<void> {
  return writeFileAtomic(file, encodeCheckpoint(cp));
}
