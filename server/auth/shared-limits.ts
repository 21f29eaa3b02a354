/**
 * Where rate-limit counts live. One node: in its memory (express-rate-limit's own store). Several
 * nodes with Redis: in Redis (rate-limit-redis), so ten wrong passwords count as ten whichever nodes
 * HAProxy sent them to, and a webhook sender's budget is one for the whole service. If Redis cannot be
 * reached, counting goes on in the node's memory until it is back: limits that protect accounts never
 * switch off.
 */
import type { Redis } from 'ioredis';
import { MemoryStore, type IncrementResponse, type Options, type Store } from 'express-rate-limit';
import { RedisStore } from 'rate-limit-redis';

/** A store for one limiter (`prefix` keeps limiters apart in Redis); undefined: express-rate-limit's memory store. */
export function limitStore(redis: Redis | undefined, prefix: string): Store | undefined {
  if (!redis) return undefined;
  return new FallbackStore(
    new RedisStore({ prefix: `bl:rl:${prefix}:`, sendCommand: (command: string, ...args: string[]) => redis.call(command, ...args) as never }),
    new MemoryStore(),
  );
}

class FallbackStore implements Store {
  constructor(
    private readonly shared: Store,
    private readonly local: Store,
  ) {}

  init(options: Options): void {
    void Promise.resolve(this.shared.init?.(options)).catch(() => undefined); // retried by the store when Redis is back
    void this.local.init?.(options);
  }

  async increment(key: string): Promise<IncrementResponse> {
    try {
      return await this.shared.increment(key);
    } catch {
      return this.local.increment(key);
    }
  }

  async decrement(key: string): Promise<void> {
    await Promise.resolve(this.shared.decrement(key)).catch(() => this.local.decrement(key));
  }

  async resetKey(key: string): Promise<void> {
    await Promise.resolve(this.shared.resetKey(key)).catch(() => undefined);
    await this.local.resetKey(key);
  }
}
