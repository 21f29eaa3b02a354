/**
 * One record of an incident's update log, as it lies on disk:
 *
 *   u32le payloadLength | u32le crc32(payload) | payload
 *   payload = varuint seq | float64 at (ms since epoch, UTC) | varstring userId | varuint8array update
 *
 * The checksum lets a reader tell a complete record from one torn by a crash mid-write.
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
