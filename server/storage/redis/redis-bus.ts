/**
 * The cluster bus on Redis pub/sub (ioredis: it resubscribes by itself after a reconnect, where
 * node-redis did not — socket.io/socket.io#4845). Two connections per node whatever the number of
 * incidents: one publishes, one subscribes to the channels of the incidents this node has loaded.
 *
 * Redis is never the truth. Pub/sub drops what is published while a subscriber is away, so after the
 * subscriber connection comes back every `onResume` handler runs and catches up from PostgreSQL.
 * Publishing while Redis is down drops the message (ioredis' offline queue is off): nothing waits on
 * Redis, saving goes on.
 */
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { ClusterBus } from '../cluster-bus.js';

export interface RedisBus extends ClusterBus {
  /** Both connections, for the socket.io adapter and the shared rate limits (they add no more). */
  readonly pub: Redis;
  readonly sub: Redis;
}

const BEAT_MS = 1000;
const LEASE_MS = 3000;

export async function openRedisBus(url: string, instanceId: string, log: Logger): Promise<RedisBus> {
  const options = {
    // Retry forever, at most every 2 s: a node outlives a Redis restart.
    retryStrategy: (times: number) => Math.min(100 * times, 2000),
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    lazyConnect: true,
    connectionName: `bridgelog:${instanceId}`,
  };
  const pub = new Redis(url, options);
  const sub = new Redis(url, { ...options, enableOfflineQueue: true });
  const handlers = new Map<string, Set<(message: Buffer) => void>>();
  const resumers = new Set<() => void>();
  for (const [name, conn] of [['publish', pub], ['subscribe', sub]] as const) {
    conn.on('error', (err: Error) => log.debug({ err: err.message, connection: name }, 'redis connection error'));
  }
  // Only the subscriber's outage loses messages: after it, everyone catches up.
  let subDown = false;
  sub.on('close', () => {
    if (!subDown) log.warn('lost the connection to Redis; other nodes are reached by polling until it is back');
    subDown = true;
  });
  sub.on('ready', () => {
    if (!subDown) return;
    subDown = false;
    log.info('connected to Redis again; catching up from PostgreSQL');
    for (const resume of resumers) resume();
  });
  sub.on('messageBuffer', (channel: Buffer, message: Buffer) => {
    for (const handler of handlers.get(channel.toString()) ?? []) {
      try {
        handler(message);
      } catch (err) {
        log.error({ err, channel: channel.toString() }, 'a cluster bus handler failed');
      }
    }
  });
  await Promise.all([pub.connect(), sub.connect()]);

  // Liveness: each instance renews its key every second, with a lease of three; an instance whose
  // key expired is gone (SIGKILLed, frozen, cut off), and the presence it held is removed at once.
  const beat = () => {
    if (pub.status === 'ready') pub.set(`bl:node:${instanceId}`, '1', 'PX', LEASE_MS).catch(() => undefined);
  };
  const watched = new Set<string>();
  const goneHandlers = new Set<(instanceId: string) => void>();
  const check = async () => {
    if (watched.size === 0 || pub.status !== 'ready') return;
    const ids = [...watched];
    const results = await pub.pipeline(ids.map((id) => ['exists', `bl:node:${id}`])).exec().catch(() => null);
    if (!results) return;
    ids.forEach((id, i) => {
      const [err, exists] = results[i]!;
      if (err || exists !== 0) return;
      watched.delete(id);
      log.info({ instance: id }, 'a node stopped beating: removing the presence it held');
      for (const h of goneHandlers) h(id);
    });
  };
  beat();
  const timer = setInterval(() => {
    beat();
    void check();
  }, BEAT_MS);
  timer.unref();

  return {
    instanceId,
    pub,
    sub,
    get connected() {
      return pub.status === 'ready';
    },
    publish(channel, message) {
      if (pub.status !== 'ready') return;
      pub.publish(channel, message).catch((err: Error) => log.debug({ err: err.message }, 'publish to Redis failed'));
    },
    subscribe(channel, handler) {
      let set = handlers.get(channel);
      if (!set) {
        handlers.set(channel, (set = new Set()));
        sub.subscribe(channel).catch((err: Error) => log.debug({ err: err.message, channel }, 'subscribe failed; ioredis resubscribes on reconnect'));
      }
      set.add(handler);
      return () => {
        set.delete(handler);
        if (set.size > 0 || handlers.get(channel) !== set) return;
        handlers.delete(channel);
        if (sub.status === 'ready') sub.unsubscribe(channel).catch(() => undefined);
      };
    },
    onResume(handler) {
      resumers.add(handler);
      return () => resumers.delete(handler);
    },
    watchInstance(id) {
      if (id !== instanceId) watched.add(id);
    },
    onInstanceGone(handler) {
      goneHandlers.add(handler);
      return () => goneHandlers.delete(handler);
    },
    async close() {
      clearInterval(timer);
      // Leaving on purpose: others need not wait for the lease.
      if (pub.status === 'ready') await pub.del(`bl:node:${instanceId}`).catch(() => undefined);
      pub.disconnect();
      sub.disconnect();
    },
  };
}

/**
 * The client as another library may use it (socket.io's Redis adapter publishes, subscribes and
 * unsubscribes without handling a refusal): every promise a call returns gets a handler, so Redis
 * being away is logged, never an unhandled rejection (which ends a Node process). Callers that await
 * the promise still see the error.
 */
export function tolerant(client: Redis, log: Logger | undefined, what: string): Redis {
  return new Proxy(client, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const result: unknown = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (result instanceof Promise) {
          result.catch((err: Error) => log?.debug({ err: err.message, call: String(prop), what }, 'a Redis call failed (Redis away?)'));
        }
        return result;
      };
    },
  });
}

export function isRedisBus(bus: ClusterBus): bus is RedisBus {
  return 'pub' in bus && 'sub' in bus;
}
