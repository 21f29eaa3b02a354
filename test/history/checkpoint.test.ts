/** Checkpoints: compressed on disk, still readable when written by the version before, refused when damaged. */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import * as encoding from 'lib0/encoding';
import { crc32 } from 'node:zlib';
import { decodeCheckpoint, encodeCheckpoint, type Checkpoint } from '../../server/storage/embedded/checkpoint.js';
import { createEntry, listEntries } from '../../shared/schema/doc.js';

function incident(entries: number): Checkpoint {
  const doc = new Y.Doc();
  for (let i = 0; i < entries; i++) createEntry(doc, { kind: 'test', title: `ping 10.0.0.${i % 256}`, ranAt: '2026-03-04T06:00:00.000Z', observations: '3 packets transmitted, 3 received, 0% packet loss' });
  return { seq: 42, at: Date.UTC(2026, 2, 4, 6), logOffset: 12_345, bindings: new Map([[7, 'u_kim']]), docUpdate: Y.encodeStateAsUpdate(doc) };
}

/** A checkpoint as version 1 wrote it: the payload uncompressed. */
function versionOne(cp: Checkpoint): Buffer {
  const enc = encoding.createEncoder();
  encoding.writeUint8Array(enc, Buffer.from('BLCP', 'latin1'));
  encoding.writeUint8(enc, 1);
  encoding.writeVarUint(enc, cp.seq);
  encoding.writeFloat64(enc, cp.at);
  encoding.writeVarUint(enc, cp.logOffset);
  encoding.writeVarUint(enc, cp.bindings.size);
  for (const [client, user] of cp.bindings) {
    encoding.writeVarUint(enc, client);
    encoding.writeVarString(enc, user);
  }
  encoding.writeVarUint8Array(enc, cp.docUpdate);
  const body = Buffer.from(encoding.toUint8Array(enc));
  const crc = Buffer.alloc(4);
  crc.writeUInt32LE(crc32(body));
  return Buffer.concat([body, crc]);
}

describe('checkpoint', () => {
  it('round-trips compressed, and reads the uncompressed version 1 too', async () => {
    const cp = incident(2000);
    const packed = await encodeCheckpoint(cp);
    expect(packed.length).toBeLessThan(cp.docUpdate.length / 3);
    for (const buf of [packed, versionOne(cp)]) {
      const back = await decodeCheckpoint(buf);
      expect({ ...back, docUpdate: undefined }).toEqual({ ...cp, docUpdate: undefined });
      const doc = new Y.Doc();
      Y.applyUpdate(doc, back.docUpdate);
      expect(listEntries(doc)).toHaveLength(2000);
    }
  });

  it('refuses a damaged or foreign file with a reason', async () => {
    const packed = await encodeCheckpoint(incident(10));
    const flipped = Buffer.from(packed);
    flipped[20]! ^= 0xff;
    await expect(decodeCheckpoint(flipped)).rejects.toThrow('checksum');
    await expect(decodeCheckpoint(Buffer.from('not a checkpoint at all'))).rejects.toThrow('not a checkpoint');
    const future = Buffer.from(packed);
    future[4] = 9;
    future.writeUInt32LE(crc32(future.subarray(0, future.length - 4)), future.length - 4);
    await expect(decodeCheckpoint(future)).rejects.toThrow('unknown checkpoint version 9');
  });
});
