import { defineConfig } from 'vitest/config';

/** `npm run test:chaos`: crashes, convergence under disconnects and restarts, fuzzing, the auth matrix. */
export default defineConfig({
  test: {
    include: ['test/chaos/**/*.chaos.ts'],
    environment: 'node',
    testTimeout: 15 * 60_000,
    hookTimeout: 60_000,
    // One at a time: these measure latency and kill servers; two cores are not enough for overlap.
    fileParallelism: false,
  },
});
