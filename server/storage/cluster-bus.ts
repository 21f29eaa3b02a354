/**
 * How the nodes of one Bridgelog tell each other things fast: committed records, presence, app
 * events. A hint, never the truth — what it drops, PostgreSQL still has, and every subscriber catches
 * up from there when the bus says it was away (`onResume`). Redis pub/sub in the several-node mode
 * (redis/redis-bus.ts); `localBus()` when there is no Redis, where nodes converge by polling.
 */

export interface ClusterBus {
  /** This process among the nodes: NODE_ID and a boot id (a restarted node is a new instance). */
  readonly instanceId: string;
  /** Whether messages reach other nodes at all (false without Redis: they poll instead). */
  readonly connected: boolean;
  publish(channel: string, message: Buffer): void;
  /** Messages on `channel` from every instance, this one's included; returns the unsubscribe. */
  subscribe(channel: string, handler: (message: Buffer) => void): () => void;
  /** After the bus lost its connection and has it again: anything sent meanwhile was lost. */
  onResume(handler: () => void): () => void;
  /** Keep an eye on another instance (one we hold presence for): `onInstanceGone` says when it stops beating. */
  watchInstance(instanceId: string): void;
  /** An instance watched has not been heard of within its lease (a few seconds): it died or lost Redis. */
  onInstanceGone(handler: (instanceId: string) => void): () => void;
  close(): Promise<void>;
}

/** No other node hears anything: the several-node mode without Redis, converging by polling. */
export function localBus(instanceId: string): ClusterBus {
  return {
    instanceId,
    connected: false,
    publish: () => undefined,
    subscribe: () => () => undefined,
    onResume: () => () => undefined,
    watchInstance: () => undefined,
    onInstanceGone: () => () => undefined,
    close: async () => undefined,
  };
}
