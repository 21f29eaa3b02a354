import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Servers, browsers and child processes: two cores, keep it to two files at a time.
    maxWorkers: 2,
    // What a test polls for (a page saying "Saved", an item appearing) is what a user would wait a
    // few seconds for on a busy machine; vitest's default of 1 s made browser tests flaky under CI load.
    expect: { poll: { timeout: 10_000 } },
  },
});
