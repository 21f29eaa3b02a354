/**
 * Presence across nodes (PostgreSQL mode with Redis): who is on an incident, whichever node their
 * socket is on. The room publishes the awareness changes of its own sockets on `bl:aw:<incident>`
 * and applies other nodes' as they come; a node that joins asks the others for what they hold. A
 * node that dies cannot say its users left: when its liveness key expires (cluster-bus.ts) the states
 * it held are removed at once — no ghosts — rather than after y-protocols' 30 s timeout.
 */
import * as awarenessProtocol from 'y-protocols/awareness';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import type { ClusterBus } from '../storage/cluster-bus.js';

const UPDATE = 0;
const QUERY = 1;

/** Origin of awareness changes that came from another node (not published again). */
export const REMOTE_PRESENCE = Symbol('remote presence');

export class ClusterPresence {
  private readonly channel: string;
  /** Awareness client IDs each other instance holds here. */
  private readonly byInstance = new Map<string, Set<number>>();
  private readonly off: Array<() => void>;

  constructor(
    incidentId: string,
    private readonly awareness: awarenessProtocol.Awareness,
    private readonly bus: ClusterBus,
    /** The awareness client IDs of this node's own sockets. */
    private readonly localIds: () => number[],
  ) {
    this.channel = `bl:aw:${incidentId}`;
    this.off = [
      bus.subscribe(this.channel, (m) => this.onMessage(m)),
      bus.onInstanceGone((id) => this.forget(id)),
      bus.onResume(() => this.send(QUERY)),
    ];
    this.send(QUERY);
  }

  /** Changes made by this node's sockets (joins, cursors, leaves), for the other nodes. */
  publish(clientIds: number[]): void {
    // Only IDs the awareness knows: a socket's ID whose state was never set or already removed has
    // no clock, and encodeAwarenessUpdate would throw (seen answering another node's query).
    const known = clientIds.filter((id) => this.awareness.meta.has(id));
    if (known.length === 0 || !this.bus.connected) return;
    this.send(UPDATE, awarenessProtocol.encodeAwarenessUpdate(this.awareness, known));
  }

  close(): void {
    for (const off of this.off) off();
    // Others remove what this node held when its sockets left; a node that is closing tells them now.
    const ids = this.localIds();
    if (ids.length > 0 && this.bus.connected) this.send(UPDATE, encodeRemoval(ids, this.awareness));
  }

  private send(kind: number, update?: Uint8Array): void {
    if (!this.bus.connected) return;
    const e = encoding.createEncoder();
    encoding.writeVarString(e, this.bus.instanceId);
    encoding.writeVarUint(e, kind);
    if (update) encoding.writeVarUint8Array(e, update);
    this.bus.publish(this.channel, Buffer.from(encoding.toUint8Array(e)));
  }

  private onMessage(message: Buffer): void {
    let instance: string;
    let kind: number;
    let update: Uint8Array | undefined;
    try {
      const d = decoding.createDecoder(message);
      instance = decoding.readVarString(d);
      kind = decoding.readVarUint(d);
      if (kind === UPDATE) update = decoding.readVarUint8Array(d);
    } catch {
      return;
    }
    if (instance === this.bus.instanceId) return;
    if (kind === QUERY) return this.publish(this.localIds());
    if (!update) return;
    this.bus.watchInstance(instance);
    let ids = this.byInstance.get(instance);
    if (!ids) this.byInstance.set(instance, (ids = new Set()));
    for (const id of clientIdsOf(update)) ids.add(id);
    awarenessProtocol.applyAwarenessUpdate(this.awareness, update, REMOTE_PRESENCE);
  }

  private forget(instance: string): void {
    const ids = this.byInstance.get(instance);
    if (!ids) return;
    this.byInstance.delete(instance);
    awarenessProtocol.removeAwarenessStates(this.awareness, [...ids], REMOTE_PRESENCE);
  }
}

function clientIdsOf(update: Uint8Array): number[] {
  const d = decoding.createDecoder(update);
  const n = decoding.readVarUint(d);
  const ids: number[] = [];
  for (let i = 0; i < n; i++) {
    ids.push(decoding.readVarUint(d));
    decoding.readVarUint(d); // clock
    decoding.readVarString(d); // state JSON
  }
  return ids;
}

/** An awareness update that says these clients left (state null, clock one past the current). */
function encodeRemoval(ids: number[], awareness: awarenessProtocol.Awareness): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, ids.length);
  for (const id of ids) {
    encoding.writeVarUint(e, id);
    encoding.writeVarUint(e, (awareness.meta.get(id)?.clock ?? 0) + 1);
    encoding.writeVarString(e, 'null');
  }
  return encoding.toUint8Array(e);
}
