/** `npm start`: serve Bridgelog on HOST:PORT with data under DATA_DIR until SIGTERM/SIGINT. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from './app.js';
import { configFromEnv } from './config.js';
import { createLogger } from './log.js';

const here = path.dirname(fileURLToPath(import.meta.url));
// Built: dist/server/main.js next to dist/client; from source (tsx): server/main.ts, client built into dist/client.
const clientDir = path.resolve(here, here.includes(`${path.sep}dist${path.sep}`) ? '../client' : '../dist/client');

const config = configFromEnv(process.env, clientDir);
const log = createLogger(config.logLevel);

try {
  const server = await startServer(config, log);
  log.info({ url: server.url, dataDir: config.dataDir }, 'Bridgelog is serving');
  if (server.setupUrl) {
    // Printed plainly too: this is what the person who started the server needs to see.
    process.stdout.write(`\nNo users yet. Create the first admin here (the link works once):\n  ${server.setupUrl}\n\n`);
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: flushing logs and closing sockets');
    server.close().then(
      () => process.exit(0),
      (err) => {
        log.error({ err }, 'unclean shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
} catch (err) {
  log.fatal({ err: (err as Error).message }, 'Bridgelog could not start');
  process.stderr.write(`Bridgelog could not start: ${(err as Error).message}\n`);
  process.exit(1);
}
