import { defineConfig } from 'vitest/config';

/**
 * `npm run test:cluster`: several Bridgelog nodes as real processes on a real PostgreSQL, Redis and
 * HAProxy (Debian packages), killed and restarted.
 */
export default defineConfig({
  test: {
    include: ['test/cluster/**/*.cluster.ts'],
    environment: 'node',
    testTimeout: 10 * 60_000,
    hookTimeout: 120_000,
    // One at a time: each starts PostgreSQL, Redis, HAProxy and three nodes on two cores.
    fileParallelism: false,
    expect: { poll: { timeout: 15_000 } },
  },
});
