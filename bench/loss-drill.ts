/**
 * The loss drill of the cluster scenario: writers connect through HAProxy (which sends all of a
 * document's clients to one instance: the hash of its path), readers to every instance's own port;
 * at a set time the writers' instance and the writers' process are SIGKILLed together, so nothing is
 * resent. Then: of the updates each writer had been told were saved, how many are not in PostgreSQL?
 *
 * "Told saved" is each server's own acknowledgement, as its client shows it:
 * - Bridgelog: the update's clock is covered by a "persisted" (message 100) state vector — "Saved",
 *   sent after the COMMIT that holds it.
 * - Hocuspocus: a SyncStatus (applied) came back for it — what HocuspocusProvider counts
 *   `unsyncedChanges` down by (`synced` / no unsynced changes once none is left). It is sent once the
 *   instance has applied the update in memory; storing comes later, debounced.
 * Only acknowledgements the writer process had posted before it died count: one in flight at the kill
 * is not counted, so the count errs towards fewer acknowledged, never more.
 *
 * PostgreSQL is read twice: 5 s after the kill, while the survivors still hold the document (their
 * readers are connected), and again after the readers have left and 5 s more — a Hocuspocus instance
 * stores a document when its last client leaves if a store of its own is pending.
 */
import { ClusterUnderTest, spread, type ClusterKind, type Engines } from './cluster-servers.js';
import { progress, sleep } from './lib.js';
import { LoadProcess } from './load/ipc.js';
import type { ReadersConfig, ReadersReady } from './load/readers.js';
import type { WritersAcked, WritersConfig } from './load/writers.js';

export interface LossDrillShape {
  writers: number;
  /** Updates per second, per writer. */
  rate: number;
  readers: number;
  /** Seconds after the writers start (their warm-up second not counted) at which the kill comes. */
  killAfterS: number;
}

export interface LossDrillResult extends LossDrillShape {
  server: ClusterKind;
  /** The instance HAProxy had put the writers on: the one killed. */
  killed: string;
  /** Timed updates the writers had been told were saved (see above). */
  acknowledged: number;
  /** Of those, missing from PostgreSQL 5 s after the kill. */
  lostAfterKill: number;
  /** Of those, missing once every reader had left and 5 s more. */
  lostAtEnd: number;
  /** Timed updates in PostgreSQL at the end, acknowledged or not. */
  storedAtEnd: number;
  /** PostgreSQL writes for the document by the time of the kill: Bridgelog's records, Hocuspocus's stores of the whole document. */
  writesAtKill: number;
}

/** Acknowledged updates (writer#seq) missing from `stored`; `upTo`: each writer's last acknowledged seq. */
function missing(upTo: Map<number, number>, stored: Set<string>): number {
  let lost = 0;
  for (const [w, last] of upTo) for (let s = 0; s <= last; s++) if (!stored.has(`${w}#${s}`)) lost++;
  return lost;
}

export async function lossDrill(kind: ClusterKind, engines: Engines, shape: LossDrillShape): Promise<LossDrillResult> {
  const cluster = await ClusterUnderTest.start(kind, engines);
  let readers: LoadProcess | undefined;
  let writers: LoadProcess | undefined;
  try {
    const doc = await cluster.createDoc('loss drill');
    const perWriter = Math.round(shape.rate * (shape.killAfterS + 60));
    const perInstance = spread(shape.readers, cluster.instances.length);
    readers = new LoadProcess('readers.ts', {
      targets: perInstance.flatMap((n, i) => Array.from({ length: n }, () => cluster.target(doc, i))),
      writers: shape.writers,
      perWriter,
      concurrency: 50,
    } satisfies ReadersConfig);
    await readers.next<ReadersReady>('ready');
    const before = await cluster.connections();
    writers = new LoadProcess('writers.ts', {
      targets: Array.from({ length: shape.writers }, () => cluster.target(doc, 'haproxy', 'writer')),
      rate: shape.rate,
      seconds: shape.killAfterS + 60,
      ack: kind === 'bridgelog' ? 'persisted' : 'synced',
      reportAcks: true,
      drainMs: 0,
    } satisfies WritersConfig);
    await writers.next('ready');
    const after = await cluster.connections();
    const added = after.map((n, i) => n - before[i]!);
    const victim = added.indexOf(Math.max(...added));
    if (added[victim]! < shape.writers) throw new Error(`the writers are not all on one instance (${added.join('/')} new connections)`);

    writers.send({ type: 'go' });
    await sleep(shape.killAfterS * 1000);
    // Both in the same tick: neither the writers nor their instance outlives the other.
    await Promise.all([writers.kill(), cluster.instances[victim]!.kill()]);
    const writesAtKill = await cluster.writes(doc);
    const upTo = new Map<number, number>();
    for (const a of writers.take<WritersAcked>('acked')) upTo.set(a.writer, Math.max(a.seq, upTo.get(a.writer) ?? -1));
    const acknowledged = [...upTo.values()].reduce((n, last) => n + last + 1, 0);

    await sleep(5000);
    const lostAfterKill = missing(upTo, await cluster.storedMarkers(doc));
    readers.send({ type: 'close' });
    await readers.next('closed');
    await sleep(5000);
    const stored = await cluster.storedMarkers(doc);
    const lostAtEnd = missing(upTo, stored);
    const result: LossDrillResult = {
      server: kind,
      ...shape,
      killed: cluster.instances[victim]!.name,
      acknowledged,
      lostAfterKill,
      lostAtEnd,
      storedAtEnd: stored.size,
      writesAtKill,
    };
    progress(
      `${kind} loss drill: killed ${result.killed} and its ${shape.writers} writers after ${shape.killAfterS.toFixed(1)} s; ` +
        `${acknowledged} acknowledged, ${lostAfterKill} of them missing 5 s later, ${lostAtEnd} at the end (${stored.size} stored, ${writesAtKill} writes)`,
    );
    return result;
  } finally {
    await Promise.all([readers?.stop(), writers?.stop()]);
    await cluster.stop();
  }
}
