/**
 * Capture analyses shared by several nodes (the PostgreSQL mode): each "node" here is a
 * CaptureAnalyses with its own pool, its own PgBlobs and its own cache directory, on one real
 * PostgreSQL database. A capture analyzed on one node is served by the others with the same bytes
 * (and the same bytes as the embedded mode's), it is analyzed once however many nodes are asked, a
 * node that dies mid-analysis is taken over once its lease has run out, and a capture whose analysis
 * takes its node down every time ends failed after the bounded attempts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { text } from 'node:stream/consumers';
import { pino } from 'pino';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { CaptureAnalyses, type AnalysisState, type AnswerOptions, type SharedAnalysesOptions } from '../../server/capture/capture-analyses.js';
import type { Blobs } from '../../server/storage/blobs.js';
import { openFileBlobs } from '../../server/storage/embedded/file-blobs.js';
import { openDatabase, type Database } from '../../server/storage/postgres/database.js';
import { PgJobs } from '../../server/storage/postgres/pg-jobs.js';
import { openPgBlobs, type PgBlobs } from '../../server/storage/postgres/pg-blobs.js';
import { burstyTraffic, writePcap } from '../helpers/capture-writer.js';
import { usePostgres } from '../helpers/postgres.js';

const postgres = usePostgres();
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bridgelog-analysis-jobs-'));
const KIND = 'capture-analysis/v2';
const START = 1_772_604_750_123_456_789n;
const capture = writePcap(burstyTraffic(START, 3000), { nanos: true, little: true });

interface Node {
  name: string;
  db: Database;
  blobs: PgBlobs;
  analyses: CaptureAnalyses;
  dir: string;
  /** Every state the node told its listeners, in order. */
  events: Array<{ sha256: string; state: AnalysisState }>;
  /** What it logged (pino lines). */
  logs: Array<{ msg: string; sha256?: string; attempt?: number; status?: string }>;
  /** Resolves when the node has "died" (dieAtProgress). */
  died: Promise<void>;
}

const nodes: Node[] = [];
const embedded: CaptureAnalyses[] = [];
afterAll(async () => {
  for (const n of nodes) {
    await n.analyses.close();
    n.blobs.close();
  }
  await Promise.all(nodes.filter((n) => !n.db.pool.ended).map((n) => n.db.close()));
  for (const e of embedded) await e.close();
  fs.rmSync(root, { recursive: true, force: true });
}, 30_000);

/**
 * A node on the database. `dieAtProgress`: at the first progress of an analysis it runs, the node is
 * cut off from PostgreSQL (its pool ended) — to the others it is dead: it renews nothing and stores
 * nothing, and its lease runs out.
 */
async function node(
  url: string,
  name: string,
  { dieAtProgress, onEvent, ...options }: Partial<SharedAnalysesOptions> & { dieAtProgress?: boolean; onEvent?: (state: AnalysisState) => void } = {},
): Promise<Node> {
  const db = await openDatabase(url);
  const dir = path.join(root, `${name}-${nodes.length}`);
  const blobs = await openPgBlobs(db.pool, { nodeId: name, cacheDir: path.join(dir, 'blob-cache') });
  const logs: Node['logs'] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line) as Node['logs'][number]) });
  const events: Node['events'] = [];
  let died!: () => void;
  const diedPromise = new Promise<void>((resolve) => (died = resolve));
  let dead = false;
  const analyses = new CaptureAnalyses(
    path.join(dir, 'analyses'),
    blobs,
    log,
    (sha256, state) => {
      events.push({ sha256, state });
      onEvent?.(state);
      if (dieAtProgress && state.status === 'running' && !dead) {
        dead = true;
        void db.pool.end();
        died();
      }
    },
    { shared: { jobs: new PgJobs(db.pool), nodeId: name, leaseMs: 1500, tickMs: 100, maxAttempts: 3, ...options } },
  );
  const n: Node = { name, db, blobs, analyses, dir: path.join(dir, 'analyses'), events, logs, died: diedPromise };
  nodes.push(n);
  return n;
}

async function store(blobs: Blobs, bytes: Buffer): Promise<string> {
  const w = blobs.create();
  w.end(bytes);
  return (await w.commit()).sha256;
}

async function answerOf(analyses: CaptureAnalyses, sha256: string, opts?: AnswerOptions): Promise<string> {
  const out = new PassThrough();
  const [, body] = await Promise.all([analyses.answer(sha256, out, opts), text(out)]);
  return body;
}

const analyzedBy = (n: Node, sha256: string) => n.logs.filter((l) => l.msg === 'capture analyzed' && l.sha256 === sha256);

async function jobRow(db: Database, sha256: string) {
  const { rows } = await db.pool.query<{ status: string; owner: string; attempts: number; error: string | null; result: { series: { sha256: string } } | null }>(
    'SELECT status, owner, attempts, error, result FROM jobs WHERE kind = $1 AND key = $2',
    [KIND, sha256],
  );
  return rows[0];
}

const done = (n: Node, sha256: string) => vi.waitFor(() => expect(n.analyses.state(sha256)?.status).toBe('done'), { timeout: 30_000, interval: 50 });

describe('capture analyses shared by several nodes', () => {
  it('serves an analysis made on one node from another, byte for byte, without analyzing it again', async () => {
    const url = await postgres.newDatabase();
    const a = await node(url, 'a');
    const sha256 = await store(a.blobs, capture);
    a.analyses.start(sha256);
    await done(a, sha256);
    expect(a.events.filter((e) => e.sha256 === sha256).map((e) => e.state.status)).toEqual(expect.arrayContaining(['pending', 'running', 'done']));
    expect(a.events[0]!.state.status).toBe('pending');
    expect(a.events.at(-1)!.state.status).toBe('done');

    const b = await node(url, 'b');
    // B knows nothing of it until asked; asked, it answers at once with A's result.
    expect(b.analyses.state(sha256)).toBeUndefined();
    b.analyses.start(sha256);
    const options: Array<AnswerOptions | undefined> = [undefined, { summaryOnly: true }, { coarseOnly: true }, { capacityBytesPerMs: 20_000 }];
    const fromB = [];
    for (const o of options) fromB.push(await answerOf(b.analyses, sha256, o));
    expect(JSON.parse(fromB[0]!)).toMatchObject({ status: 'done', packets: 3000 });
    for (const [i, o] of options.entries()) expect(fromB[i]).toBe(await answerOf(a.analyses, sha256, o));
    expect(await b.analyses.window(sha256, 100, 2_000)).toEqual(await a.analyses.window(sha256, 100, 2_000));
    await b.analyses.prepare([sha256]);
    const head = a.analyses.firstMillis(sha256, 60_000);
    expect(head.length).toBeGreaterThan(100);
    expect(b.analyses.firstMillis(sha256, 60_000)).toEqual(head);
    // B served it from the row and the series blob: one analysis in all, on A.
    expect(analyzedBy(a, sha256)).toHaveLength(1);
    expect(analyzedBy(b, sha256)).toHaveLength(0);
    const row = await jobRow(b.db, sha256);
    expect(row).toMatchObject({ status: 'done', owner: 'a', attempts: 1 });
    expect(fs.readdirSync(b.dir)).toEqual([`${row!.result!.series.sha256}.io1ms`]); // B's copy of the series

    // The same bytes as the embedded mode's answer for the same capture.
    const fileBlobs = await openFileBlobs(path.join(root, 'embedded'));
    const own = new CaptureAnalyses(path.join(root, 'embedded', 'analyses'), fileBlobs, pino({ level: 'silent' }), () => undefined);
    embedded.push(own);
    expect(await store(fileBlobs, capture)).toBe(sha256);
    own.start(sha256);
    await vi.waitFor(() => expect(own.state(sha256)?.status).toBe('done'), { timeout: 30_000, interval: 50 });
    for (const [i, o] of options.entries()) expect(fromB[i]).toBe(await answerOf(own, sha256, o));
    expect(own.firstMillis(sha256, 60_000)).toEqual(head);
  });

  it('analyzes a capture once when two nodes are asked for it at the same moment', async () => {
    const url = await postgres.newDatabase();
    const a = await node(url, 'a');
    const b = await node(url, 'b');
    const sha256 = await store(a.blobs, capture);
    a.analyses.start(sha256);
    b.analyses.start(sha256);
    await Promise.all([done(a, sha256), done(b, sha256)]);
    expect(analyzedBy(a, sha256).length + analyzedBy(b, sha256).length).toBe(1);
    expect(await jobRow(a.db, sha256)).toMatchObject({ status: 'done', attempts: 1 });
    // Both nodes' listeners heard of it to the end.
    for (const n of [a, b]) expect(n.events.filter((e) => e.sha256 === sha256).at(-1)!.state.status).toBe('done');
    expect(await answerOf(a.analyses, sha256)).toBe(await answerOf(b.analyses, sha256));
  });

  it('takes over the analysis of a node that died midway once its lease has run out', async () => {
    const url = await postgres.newDatabase();
    // A claims with a lease long enough to see B respect it, whatever the load on the machine.
    const a = await node(url, 'a', { dieAtProgress: true, leaseMs: 5_000 });
    const sha256 = await store(a.blobs, capture);
    a.analyses.start(sha256);
    await a.died;
    const b = await node(url, 'b');
    // A's lease still runs: B leaves the job alone.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await jobRow(b.db, sha256)).toMatchObject({ status: 'running', owner: 'a', attempts: 1 });
    // Then B, never asked for it, takes it over, finishes it and stores it for every node.
    await done(b, sha256);
    expect(analyzedBy(b, sha256)).toEqual([expect.objectContaining({ attempt: 2, status: 'done' })]);
    expect(analyzedBy(a, sha256)).toHaveLength(0);
    expect(await jobRow(b.db, sha256)).toMatchObject({ status: 'done', owner: 'b', attempts: 2 });
    const c = await node(url, 'c');
    c.analyses.start(sha256);
    expect(JSON.parse(await answerOf(c.analyses, sha256, { summaryOnly: true }))).toMatchObject({ status: 'done', packets: 3000 });
    expect(await answerOf(c.analyses, sha256)).toBe(await answerOf(b.analyses, sha256));
  });

  it('fails a capture whose analysis takes its node down every time, after the bounded attempts', async () => {
    const url = await postgres.newDatabase();
    const first = await node(url, 'n1', { dieAtProgress: true });
    const sha256 = await store(first.blobs, capture);
    first.analyses.start(sha256);
    await first.died;
    for (const name of ['n2', 'n3']) {
      const next = await node(url, name, { dieAtProgress: true });
      await next.died;
    }
    const last = await node(url, 'n4');
    last.analyses.start(sha256);
    await vi.waitFor(() => expect(last.analyses.state(sha256)?.status).toBe('failed'), { timeout: 30_000, interval: 50 });
    const state = last.analyses.state(sha256) as { status: 'failed'; error: string };
    expect(state.error).toBe('gave up after 3 attempts: the node running it (n3) stopped before finishing');
    expect(JSON.parse(await answerOf(last.analyses, sha256))).toEqual(state);
    expect(analyzedBy(last, sha256)).toHaveLength(0);
    expect(await jobRow(last.db, sha256)).toMatchObject({ status: 'failed', owner: 'n3', attempts: 3 });
    // Failed for good: asking again does not start it over.
    const other = await node(url, 'n5');
    other.analyses.start(sha256);
    expect(JSON.parse(await answerOf(other.analyses, sha256))).toEqual(state);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(analyzedBy(other, sha256)).toHaveLength(0);
  });

  it('keeps a failed analysis (not a capture) as failed for every node, after one attempt', async () => {
    const url = await postgres.newDatabase();
    const a = await node(url, 'a');
    const b = await node(url, 'b');
    const sha256 = await store(a.blobs, Buffer.from('this is not a capture, just some notes'));
    a.analyses.start(sha256);
    await vi.waitFor(() => expect(a.analyses.state(sha256)?.status).toBe('failed'), { timeout: 30_000, interval: 50 });
    b.analyses.start(sha256);
    const answer = await answerOf(b.analyses, sha256);
    expect(answer).toBe(await answerOf(a.analyses, sha256));
    expect(JSON.parse(answer)).toMatchObject({ status: 'failed', error: expect.stringMatching(/not a packet capture|capture/i) });
    await expect(b.analyses.window(sha256, 0, 10)).rejects.toThrow(/not been analyzed/);
    expect(await jobRow(a.db, sha256)).toMatchObject({ status: 'failed', attempts: 1 });
  });

  it('gives the analysis back when a node stops on purpose, without counting it as an attempt', async () => {
    const url = await postgres.newDatabase();
    let closing: Promise<void> | undefined;
    const a: Node = await node(url, 'a', { onEvent: (state) => void (state.status === 'running' && (closing ??= a.analyses.close())) });
    const sha256 = await store(a.blobs, capture);
    a.analyses.start(sha256);
    await vi.waitFor(() => expect(closing).toBeDefined(), { timeout: 30_000, interval: 20 });
    await closing;
    expect(await jobRow(a.db, sha256)).toMatchObject({ status: 'queued', attempts: 0 });
    const b = await node(url, 'b');
    b.analyses.start(sha256);
    await done(b, sha256);
    expect(await jobRow(b.db, sha256)).toMatchObject({ status: 'done', owner: 'b', attempts: 1 });
  });

  it('analyzes again a done capture whose series blob is gone', async () => {
    const url = await postgres.newDatabase();
    const a = await node(url, 'a');
    const sha256 = await store(a.blobs, capture);
    a.analyses.start(sha256);
    await done(a, sha256);
    const series = (await jobRow(a.db, sha256))!.result!.series.sha256;
    await a.db.pool.query('DELETE FROM blob_chunks WHERE sha256 = $1', [series]);
    await a.db.pool.query('DELETE FROM blobs WHERE sha256 = $1', [series]);
    const b = await node(url, 'b');
    b.analyses.start(sha256);
    expect(JSON.parse(await answerOf(b.analyses, sha256)).status).toMatch(/^(pending|running)$/);
    await done(b, sha256);
    await vi.waitFor(async () => expect(await jobRow(b.db, sha256)).toMatchObject({ status: 'done', attempts: 1 }));
    expect(JSON.parse(await answerOf(b.analyses, sha256, { summaryOnly: true }))).toMatchObject({ status: 'done', packets: 3000 });
  });
});
