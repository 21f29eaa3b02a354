/**
 * A checkpoint: the document as it was after record `seq`, so loading does not replay the whole
 * log. It also carries where the log continues and the clientID → user bindings. Written
 * atomically; one that fails its checksum is ignored (the log alone can rebuild everything).
 *
 *   "BLCP" | u8 version | body | u32le crc32(everything before)
 *   body = deflate-raw(payload) (version 2) or payload (version 1, still read)
 *   payload = varuint seq | float64 at | varuint logOffset | varuint n | n × (varuint clientId, varstring userId)
 *             | varuint8array docUpdate
 *
 * Compressed because the history's disk budget is twice the raw update bytes, and the log's record
 * headers already take a good part of it; a document's state deflates 4–7× (level 1, on the thread
 * pool, so a checkpoint never stalls the room's event loop).
 */
import fs from 'node:fs/promises';
import { promisify } from 'node:util';
import zlib, { crc32 } from 'node:zlib';
import * as encoding from 'lib0/encoding';
import * as decoding from 'lib0/decoding';
import { writeFileAtomic } from '../../store/durable-file.js';

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
const VERSION = 2;
const deflateRaw = promisify(zlib.deflateRaw);
const inflateRaw = promisify(zlib.inflateRaw);

export async function encodeCheckpoint(cp: Checkpoint): Promise<Buffer> {
  const enc = encoding.createEncoder();
  encoding.writeVarUint(enc, cp.seq);
  encoding.writeFloat64(enc, cp.at);
  encoding.writeVarUint(enc, cp.logOffset);
  encoding.writeVarUint(enc, cp.bindings.size);
  for (const [clientId, userId] of cp.bindings) {
    encoding.writeVarUint(enc, clientId);
    encoding.writeVarString(enc, userId);
  }
  encoding.writeVarUint8Array(enc, cp.docUpdate);
  const body = await deflateRaw(encoding.toUint8Array(enc), { level: 1 });
  const out = Buffer.allocUnsafe(MAGIC.length + 1 + body.length + 4);
  out.write(MAGIC, 0, 'latin1');
  out.writeUInt8(VERSION, MAGIC.length);
  out.set(body, MAGIC.length + 1);
  out.writeUInt32LE(crc32(out.subarray(0, out.length - 4)), out.length - 4);
  return out;
}

export async function decodeCheckpoint(buf: Buffer): Promise<Checkpoint> {
  if (buf.length < MAGIC.length + 5 || buf.toString('latin1', 0, 4) !== MAGIC) throw new Error('not a checkpoint');
  const framed = buf.subarray(0, buf.length - 4);
  if (crc32(framed) !== buf.readUInt32LE(buf.length - 4)) throw new Error('checkpoint checksum mismatch');
  const version = buf.readUInt8(MAGIC.length);
  if (version !== 1 && version !== 2) throw new Error(`unknown checkpoint version ${version}`);
  const body = framed.subarray(MAGIC.length + 1);
  const dec = decoding.createDecoder(version === 2 ? await inflateRaw(body) : body);
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

export async function writeCheckpoint(file: string, cp: Checkpoint): Promise<void> {
  await writeFileAtomic(file, await encodeCheckpoint(cp));
}
