/**
 * The reference y-websocket server (`@y/websocket-server` 0.1.1, the last for yjs 13) as a benchmark
 * peer: its own `setupWSConnection` behind a plain `ws` server, as its bundled `server.js` does, with
 * no persistence (YPERSISTENCE unset). Listens on 127.0.0.1:$PORT; the document is the URL path.
 */
import http from 'node:http';
import { WebSocketServer } from 'ws';
import { docs, setupWSConnection } from '@y/websocket-server/utils';
import { countDocsWith } from './probe.js';

const port = Number(process.env.PORT);
const server = http.createServer((_req, res) => res.end('ok'));
const wss = new WebSocketServer({ noServer: true });
wss.on('connection', setupWSConnection);
server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req)));
countDocsWith(() => docs.size);
process.on('SIGTERM', () => process.exit(0));
server.listen(port, '127.0.0.1', () => console.log(JSON.stringify({ ready: 'y-websocket-server', port })));
