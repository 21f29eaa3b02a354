import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Servers, browsers and child processes: two cores, keep it to two files at a time.
    maxWorkers: 2,
  },
});
