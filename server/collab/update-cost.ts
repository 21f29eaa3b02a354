/**
 * What an update will cost to decode and apply, read before Yjs touches it. Yjs spends 5–10 µs on
 * each struct it decodes and as much again applying it (a nested type more), so a 500 KB update of
 * 40,000 nested maps held the event loop ~1 s — twice, as both the check and the apply decode it. This
 * reads the update's v1 encoding with nothing but varints (about a millisecond for such an update),
 * counts its structs and nested types, and follows each new type to the type it is created in: an
 * update whose types nest deeper than the document's schema ever does, or that carries more than the
 * limits, is refused here, before any of that work.
 */
import * as decoding from 'lib0/decoding';
import { CloseCode } from '../../shared/protocol.js';
import { ProtocolError } from './protocol.js';

export const UpdateLimits = {
  /**
   * Structs in one update. Typing makes one per update; a client's sync after a long time offline
   * carries its whole backlog (each run of typed text is one struct), far below this.
   */
  maxStructs: 200_000,
  /**
   * New Y.Map/Y.Array/Y.Text in one update: an entry is 8, so 6,250 entries at once (a script seeding an
   * incident in one transaction). Applying that many takes about a second here: the frame pace
   * (time-share.ts) keeps one user from doing it again before their share has paid for it.
   */
  maxTypes: 50_000,
  /**
   * Types created inside types of the same update: the schema's deepest is a root map → entry map →
   * field (a Y.Text, a Y.Array, the verdicts' Y.Map), so 2 at most.
   */
  maxNesting: 2,
} as const;

export interface UpdateCost {
  structs: number;
  types: number;
}

const refused = (reason: string) => new ProtocolError(CloseCode.malformed, reason);

/** Content kinds of the v1 encoding (info & 0b11111), as in Yjs's `contentRefs`. */
const GC = 0;
const DELETED = 1;
const JSON_ = 2;
const BINARY = 3;
const STRING = 4;
const EMBED = 5;
const FORMAT = 6;
const TYPE = 7;
const ANY = 8;
const DOC = 9;
const SKIP = 10;
/** Type refs that carry a name after them (YXmlElement, YXmlHook). */
const NAMED_TYPE_REFS = new Set([3, 5]);

/**
 * Reads the update's structs (v1) without building them; throws ProtocolError (4400) when it is
 * malformed or over the limits. Deletions after the structs are Yjs's to read: they cost little.
 */
export function measureUpdate(update: Uint8Array): UpdateCost {
  const dec = decoding.createDecoder(update);
  let structs = 0;
  let types = 0;
  const placed = new Placed();
  try {
    for (let clients = decoding.readVarUint(dec); clients > 0; clients--) {
      const count = decoding.readVarUint(dec);
      const client = decoding.readVarUint(dec);
      let clock = decoding.readVarUint(dec);
      structs += count;
      if (structs > UpdateLimits.maxStructs) throw refused(`update over ${UpdateLimits.maxStructs} structs`);
      for (let i = 0; i < count; i++) {
        const info = decoding.readUint8(dec);
        const kind = info & 0b11111;
        if (kind === GC || kind === SKIP) {
          clock += decoding.readVarUint(dec);
          continue;
        }
        // How deep the type this struct lands in is (0: a root, or a type the document already has —
        // the schema check that follows places those): named as its parent, or shared with the
        // neighbour it was inserted next to.
        let depth = 0;
        if (info & 0b10000000) depth = placed.depthAround(decoding.readVarUint(dec), decoding.readVarUint(dec)); // origin
        if (info & 0b01000000) depth = Math.max(depth, placed.depthAround(decoding.readVarUint(dec), decoding.readVarUint(dec))); // right origin
        if ((info & 0b11000000) === 0) {
          if (decoding.readVarUint(dec) === 1) decoding.readVarString(dec); // a root, by name
          else depth = placed.depthInside(decoding.readVarUint(dec), decoding.readVarUint(dec));
          if (info & 0b00100000) decoding.readVarString(dec); // key in a map
        }
        const start = clock;
        let isType = false;
        clock += readContent(dec, kind, (typeRef) => {
          if (++types > UpdateLimits.maxTypes) throw refused(`update over ${UpdateLimits.maxTypes} nested types`);
          if (depth >= UpdateLimits.maxNesting) throw refused('types nested deeper than the document schema allows');
          if (NAMED_TYPE_REFS.has(typeRef)) decoding.readVarString(dec);
          isType = true;
        });
        placed.add(client, start, clock, depth, isType);
      }
    }
  } catch (err) {
    if (err instanceof ProtocolError) throw err;
    throw refused('undecodable update');
  }
  return { structs, types };
}

/**
 * The structs read so far, per client in clock order: how deep the type each landed in is, and
 * whether it is a type itself (then what lands inside it is one deeper).
 */
class Placed {
  private readonly byClient = new Map<number, { starts: number[]; ends: number[]; depths: number[]; types: boolean[] }>();

  add(client: number, start: number, end: number, depth: number, isType: boolean): void {
    let runs = this.byClient.get(client);
    if (!runs) this.byClient.set(client, (runs = { starts: [], ends: [], depths: [], types: [] }));
    runs.starts.push(start);
    runs.ends.push(end);
    runs.depths.push(depth);
    runs.types.push(isType);
  }

  /** Depth of what lands inside the struct with this ID (0 if it is not one of this update's types). */
  depthInside(client: number, clock: number): number {
    const i = this.find(client, clock);
    const runs = this.byClient.get(client);
    return i >= 0 && runs!.types[i] ? runs!.depths[i]! + 1 : 0;
  }

  /** Depth of the type the struct with this ID landed in (0 if it is not in this update). */
  depthAround(client: number, clock: number): number {
    const i = this.find(client, clock);
    return i >= 0 ? this.byClient.get(client)!.depths[i]! : 0;
  }

  private find(client: number, clock: number): number {
    const runs = this.byClient.get(client);
    if (!runs) return -1;
    let lo = 0;
    let hi = runs.starts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (clock < runs.starts[mid]!) hi = mid - 1;
      else if (clock >= runs.ends[mid]!) lo = mid + 1;
      else return mid;
    }
    return -1;
  }
}

/** Skips one struct's content; returns its length in clock units. */
function readContent(dec: decoding.Decoder, kind: number, onType: (typeRef: number) => void): number {
  switch (kind) {
    case DELETED:
      return decoding.readVarUint(dec);
    case JSON_: {
      const len = decoding.readVarUint(dec);
      for (let i = 0; i < len; i++) decoding.readVarString(dec);
      return len;
    }
    case BINARY:
      decoding.readVarUint8Array(dec);
      return 1;
    case STRING: {
      // Its length in UTF-16 code units, as Yjs counts it.
      return decoding.readVarString(dec).length;
    }
    case EMBED:
      decoding.readVarString(dec);
      return 1;
    case FORMAT:
      decoding.readVarString(dec);
      decoding.readVarString(dec);
      return 1;
    case TYPE:
      onType(decoding.readVarUint(dec));
      return 1;
    case ANY: {
      const len = decoding.readVarUint(dec);
      for (let i = 0; i < len; i++) decoding.readAny(dec);
      return len;
    }
    case DOC:
      decoding.readVarString(dec);
      decoding.readAny(dec);
      return 1;
    default:
      throw refused(`unknown struct content ${kind}`);
  }
}
