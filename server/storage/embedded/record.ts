/**
 * One record of an incident's update log, as it lies on disk:
 *
 *   u32le payloadLength | u32le crc32(payload) | payload
 *   payload = varuint seq | float64 at (ms since epoch, UTC) | varstring userId | varuint8array update
 *
 * The checksum lets a reader tell a complete record from one torn by a crash mid-write, or damaged
 * since; after damage, the next record is found again by its header (see `mayStartRecord`).
 */
import { crc32 } from 'node:zlib';
import * as encoding from 'lib0/encoding';
import * as decoding from 'lib0/decoding';

export interface UpdateRecord {
  seq: number;
  /** Server receive time, ms since the epoch (UTC). */
  at: number;
  userId: string;
  update: Uint8Array;
}

export const HEADER_BYTES = 8;
/** Larger than any message the socket accepts, so a larger length field means corruption. */
export const MAX_RECORD_BYTES = 256 * 1024 * 1024;
/** The smallest record: a header, a one-byte seq, the time, and two empty varuint-prefixed fields. */
export const MIN_RECORD_BYTES = HEADER_BYTES + 1 + 8 + 1 + 1;
/** Bytes `mayStartRecord` looks at: the header, the longest seq lib0 writes, the time. */
export const PEEK_BYTES = HEADER_BYTES + 8 + 8;

export function encodeRecord(record: UpdateRecord): Buffer {
  const enc = encoding.createEncoder();
  encoding.writeVarUint(enc, record.seq);
  encoding.writeFloat64(enc, record.at);
  encoding.writeVarString(enc, record.userId);
  encoding.writeVarUint8Array(enc, record.update);
  const payload = encoding.toUint8Array(enc);
  const out = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  out.writeUInt32LE(payload.length, 0);
  out.writeUInt32LE(crc32(payload), 4);
  out.set(payload, HEADER_BYTES);
  return out;
}

export type DecodeResult =
  | { kind: 'record'; record: UpdateRecord; size: number }
  /** Not enough bytes yet for a whole record (the end of a buffer, or a torn tail). */
  | { kind: 'incomplete' }
  | { kind: 'corrupt'; reason: string };

/** Decodes the record starting at `offset` of `buf`. */
export function decodeRecord(buf: Buffer, offset: number): DecodeResult {
  if (buf.length - offset < HEADER_BYTES) return { kind: 'incomplete' };
  const length = buf.readUInt32LE(offset);
  if (length === 0 || length > MAX_RECORD_BYTES) return { kind: 'corrupt', reason: `bad record length ${length}` };
  const end = offset + HEADER_BYTES + length;
  if (end > buf.length) return { kind: 'incomplete' };
  const payload = buf.subarray(offset + HEADER_BYTES, end);
  if (crc32(payload) !== buf.readUInt32LE(offset + 4)) return { kind: 'corrupt', reason: 'checksum mismatch' };
  try {
    const dec = decoding.createDecoder(payload);
    const record: UpdateRecord = {
      seq: decoding.readVarUint(dec),
      at: decoding.readFloat64(dec),
      userId: decoding.readVarString(dec),
      update: decoding.readVarUint8Array(dec),
    };
    return { kind: 'record', record, size: end - offset };
  } catch (err) {
    return { kind: 'corrupt', reason: `undecodable payload: ${(err as Error).message}` };
  }
}

/** The last good record a reader saw: what the next one must follow. */
export interface RecordMark {
  seq: number;
  at: number;
}

/**
 * Cheap checks that a record may start at `offset` (with `available` bytes of the log from there):
 * a plausible length, a seq after `after` and at most `maxSeq`, a receive time not before it. Only a
 * candidate that passes is worth its checksum, so scanning damaged bytes is linear in practice.
 * Without `after`, any seq and a positive time will do.
 */
export function mayStartRecord(buf: Buffer, offset: number, available: number, after: RecordMark | undefined, maxSeq: number): boolean {
  if (buf.length - offset < HEADER_BYTES) return false;
  const length = buf.readUInt32LE(offset);
  if (length < MIN_RECORD_BYTES - HEADER_BYTES || length > MAX_RECORD_BYTES || HEADER_BYTES + length > available) return false;
  try {
    const dec = decoding.createDecoder(buf.subarray(offset + HEADER_BYTES, offset + Math.min(PEEK_BYTES, HEADER_BYTES + length)));
    const seq = decoding.readVarUint(dec);
    const at = decoding.readFloat64(dec);
    if (!Number.isFinite(at)) return false;
    return after ? seq > after.seq && seq <= maxSeq && at >= after.at : seq > 0 && at > 0;
  } catch {
    return false; // too short to hold a seq and a time
  }
}
