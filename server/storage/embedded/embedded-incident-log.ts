/**
 * The embedded IncidentLog: an incident's `updates.log` and `checkpoint.bin` under DATA_DIR, in the
 * format they have always had (server/history/). Seqs are turned into byte offsets here and nowhere
 * else: while the incident is appending, reads stop at the bytes its appender has made durable.
 */
import path from 'node:path';
import type { Logger } from 'pino';
import type { LogDamage } from '../../../shared/log-damage.js';
import type {
  AppendListener, IncidentAppender, IncidentCheckpoint, IncidentLog, IncidentLogs, LoadedIncident, LogRecord,
} from '../incident-log.js';
import { IncidentHistory } from './incident-history.js';
import { checkLog } from './log-damage.js';
import { SeqIndex } from './seq-index.js';
import { UpdateLog, type UpdateLogState } from './update-log.js';

export class EmbeddedIncidentLog implements IncidentLog {
  readonly history: IncidentHistory;
  private readonly index = new SeqIndex();
  /** What the last load found, for the appender that continues it. */
  private loaded: UpdateLogState | undefined;
  /** The latest appender (closed or failed ones stay: their durable size is still where reads stop). */
  private writer: UpdateLog | undefined;

  constructor(
    readonly incidentId: string,
    dir: string,
    private readonly log: Logger,
  ) {
    this.history = new IncidentHistory(dir);
  }

  async load(): Promise<LoadedIncident> {
    const { doc, bindings, log, checkpointSeq, replayed } = await this.history.load(this.log);
    this.loaded = log;
    this.index.note(log.lastSeq, log.lastAt, log.size, true);
    return { doc, bindings, checkpointSeq, replayed };
  }

  startAppending({ onDurable, onFailure }: AppendListener): IncidentAppender {
    if (!this.loaded) throw new Error(`incident ${this.incidentId}: load before appending`);
    this.writer = new UpdateLog(this.history.logFile, this.loaded, onDurable, onFailure);
    this.loaded = undefined;
    return this.writer;
  }

  async *records({ after = 0, upTo = Infinity }: { after?: number; upTo?: number } = {}): AsyncGenerator<LogRecord> {
    // Read together: the durable seq and the bytes that hold it move in the same step.
    const limit = this.writer?.durableSize;
    const last = Math.min(upTo, this.writer?.durableSeq ?? Infinity);
    if (last <= after) return;
    const start = this.index.seek(after);
    for await (const { record, end } of this.history.records({ from: start.from, limit, after: start.after })) {
      if (record.seq > last) return;
      this.index.note(record.seq, record.at, end);
      if (record.seq > after) yield record;
      if (record.seq === last) return;
    }
  }

  async latestCheckpoint(): Promise<IncidentCheckpoint | undefined> {
    const cp = await this.history.usableCheckpoint(this.log, this.writer?.durableSize);
    if (!cp) return undefined;
    this.index.note(cp.seq, cp.at, cp.logOffset, true);
    return { seq: cp.seq, at: cp.at, doc: cp.docUpdate, bindings: cp.bindings };
  }

  writeCheckpoint({ seq, at, doc, bindings }: IncidentCheckpoint): Promise<void> {
    // Where the log continues after `seq`, so a load reads only what follows.
    const logOffset = this.writer?.durableSeq === seq ? this.writer.durableSize : this.index.endOf(seq);
    if (logOffset === undefined) return Promise.reject(new Error(`incident ${this.incidentId}: no known end of record ${seq} to checkpoint at`));
    this.index.note(seq, at, logOffset, true);
    return this.history.writeCheckpoint({ seq, at, logOffset, bindings, docUpdate: doc });
  }

  damage(): Promise<LogDamage | undefined> {
    return checkLog(this.history, this.writer?.durableSize, this.log);
  }
}

/** The incidents' logs under `DATA_DIR/incidents/<id>/`, one object per incident so its appender and readers meet. */
export class EmbeddedIncidentLogs implements IncidentLogs {
  private readonly logs = new Map<string, EmbeddedIncidentLog>();

  constructor(
    private readonly dataDir: string,
    private readonly log: Logger,
  ) {}

  of(incidentId: string): EmbeddedIncidentLog {
    let log = this.logs.get(incidentId);
    if (!log) this.logs.set(incidentId, (log = new EmbeddedIncidentLog(incidentId, this.dirOf(incidentId), this.log)));
    return log;
  }

  async create(incidentId: string): Promise<EmbeddedIncidentLog> {
    await IncidentHistory.create(this.dirOf(incidentId));
    return this.of(incidentId);
  }

  private dirOf(incidentId: string): string {
    return path.join(this.dataDir, 'incidents', incidentId);
  }
}
