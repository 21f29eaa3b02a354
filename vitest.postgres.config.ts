import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * `npm run test:postgres`: the collaboration, history, route, alert, attachment and export tests
 * again, with every test server in the PostgreSQL mode (a database each, on one real PostgreSQL).
 * Left out: tests of the embedded files themselves (update-log bytes, log damage, the DATA_DIR lock),
 * which have no PostgreSQL counterpart.
 */
export default defineConfig({
  test: {
    ...base.test,
    include: ['test/{collab,history,routes,alerts,attachments,export,auth,search,notifications}/**/*.test.ts'],
    exclude: ['test/routes/log-damage.test.ts', 'test/history/log-damage.test.ts', 'test/history/update-log.test.ts', 'test/history/checkpoint*.test.ts'],
    globalSetup: ['test/helpers/postgres-global.ts'],
  },
});
