/**
 * `npm run cluster`: Bridgelog as three nodes on this machine — PostgreSQL, Redis and HAProxy from
 * Debian's packages, each on 127.0.0.1 in a temp dir — to try the several-node mode. Everything is
 * removed on Ctrl-C. For production, run the nodes yourself against your own PostgreSQL and Redis
 * (docs/several-nodes.md).
 *
 *   CLUSTER_NODES=3  CLUSTER_PORT=8080  (HAProxy's port; the nodes take 8081, 8082, …)
 */
import { startLocalCluster } from './local-cluster.js';

const nodes = Number(process.env.CLUSTER_NODES ?? 3);
const port = Number(process.env.CLUSTER_PORT ?? 8080);
if (!Number.isInteger(nodes) || nodes < 1 || nodes > 9) throw new Error('CLUSTER_NODES: 1 to 9');

process.stdout.write(`Starting PostgreSQL, Redis, ${nodes} Bridgelog nodes and HAProxy on 127.0.0.1…\n`);
const cluster = await startLocalCluster({
  nodes,
  built: true,
  ports: { haproxy: port, nodes: Array.from({ length: nodes }, (_, i) => port + 1 + i) },
  env: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' },
});
const lines = [
  '',
  `Bridgelog (${nodes} nodes behind HAProxy): ${cluster.url}`,
  ...cluster.nodes.map((n) => `  ${n.name}: ${n.url}  (DATA_DIR ${n.dataDir})`),
  `  PostgreSQL: ${cluster.postgres.url}`,
  ...(cluster.redis ? [`  Redis: ${cluster.redis.url}`] : []),
  '',
  ...(cluster.setupUrl
    ? ['No users yet. Create the first admin on node1 (the link works once), then sign in at the URL above:', `  ${cluster.setupUrl}`, '']
    : []),
  'Try it: kill a node (kill -9 <pid>) and keep typing; HAProxy moves you to another. Ctrl-C stops everything.',
  ...cluster.nodes.map((n) => `  ${n.name} pid ${n.process()?.pid}`),
  '',
];
process.stdout.write(lines.join('\n'));

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  process.stdout.write('\nStopping the nodes, HAProxy, Redis and PostgreSQL, and removing their files…\n');
  void cluster.stop().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
