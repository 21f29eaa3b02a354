/**
 * Several nodes count failed logins together (Redis): an attacker spreading guesses over the nodes
 * behind a load balancer gets no more than against one. With Redis gone, each node keeps counting on
 * its own — the limit never switches off.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { startRedis, type LocalRedis } from '../../cluster/engines.js';
import { LOGIN_LIMITS } from '../../server/auth/login-limits.js';
import { usePostgres } from '../helpers/postgres.js';
import { ADMIN_TOKEN, startTestServer, type TestServer } from '../helpers/server.js';

const postgres = usePostgres();
const servers: TestServer[] = [];
let redis: LocalRedis | undefined;
afterAll(async () => {
  for (const s of servers) await s.close();
  await redis?.kill();
});

const login = (s: TestServer, name: string) => s.api('POST', '/api/auth/login', { body: { name, password: 'wrong guess, again' } });

describe('login limits across nodes', () => {
  it('counts failures on every node together, and keeps counting locally while Redis is down', async () => {
    redis = await startRedis();
    const env = { DATABASE_URL: await postgres.newDatabase(), REDIS_URL: redis.url };
    const [a, b] = [await startTestServer({ env }), await startTestServer({ env })];
    servers.push(a, b);
    await a.createUser('responder', 'victim', 'correct horse battery');
    // Alternating nodes: the account's limit is reached after perName failures in all.
    const statuses: number[] = [];
    for (let i = 0; i < LOGIN_LIMITS.perName + 2; i++) statuses.push((await login(i % 2 ? b : a, 'victim')).status);
    expect(statuses.slice(0, LOGIN_LIMITS.perName)).toEqual(Array(LOGIN_LIMITS.perName).fill(401));
    expect(statuses.slice(LOGIN_LIMITS.perName)).toEqual([429, 429]);

    // Redis gone: a node still refuses past the limit on its own.
    await redis.kill();
    const local: number[] = [];
    for (let i = 0; i < LOGIN_LIMITS.perName + 1; i++) local.push((await login(a, 'other-victim')).status);
    expect(local.at(-1)).toBe(429);
    // And the node goes on: an app event broadcast with Redis away is logged, not an unhandled
    // rejection (which ends a Node process); closing the nodes in afterAll, with Redis still away, too.
    const incident = await a.api('POST', '/api/incidents', { token: ADMIN_TOKEN, body: { title: 'while Redis is away' } });
    expect(incident.status).toBe(201);
    expect((await a.api('GET', '/healthz')).status).toBe(200);
  });
});
