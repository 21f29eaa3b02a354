/**
 * Hocuspocus (`@hocuspocus/server` 3.4.4, the last for Node 20) as a benchmark peer: its own `Server`
 * with default configuration and no extensions, so no persistence (its onStoreDocument debounce then
 * stores nothing). Listens on 127.0.0.1:$PORT.
 */
import { Server } from '@hocuspocus/server';
import { countDocsWith } from './probe.js';

const port = Number(process.env.PORT);
const server = new Server({ port, address: '127.0.0.1', quiet: true, stopOnSignals: false });
await server.listen();
countDocsWith(() => server.hocuspocus.getDocumentsCount());
process.on('SIGTERM', () => process.exit(0));
console.log(JSON.stringify({ ready: 'hocuspocus', port }));
