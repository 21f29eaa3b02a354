/**
 * A replay of an incident: the document as it was at any moment of its history, in a copy of its
 * own (ReplayedDoc), and played forward from there at 1×, 10× or 60× the pace it happened, or one
 * change at a time. A seek fetches the state at that moment (`replay/state`); playing fetches the
 * records after it a page at a time (`replay/updates`) and applies what is due a few times a
 * second, so a busy history renders per tick, not per record. Who changed what comes from the
 * event index (`events`).
 */
import type { HistoryEvent, HistoryEvents } from '../../../shared/history';
import { decodeReplayRecords, type ReplayRecord } from '../../../shared/replay-wire';
import { api, apiGetRaw } from '../api';
import { Store } from '../store';
import { ReplayedDoc } from './replayed-doc';
import { describeEvents, eventsBetween, NO_STEP, type ReplayStep } from './replay-step';

export const Speeds = [1, 10, 60] as const;
export type Speed = (typeof Speeds)[number];

/** Records per request while playing; the next page is fetched once fewer than half are waiting. */
const PAGE = 2000;
/**
 * Idle stretches are capped, not played out: whatever the speed, the wait for the next record is
 * at most this long on screen (the clock then jumps ahead to just before it).
 */
const MAX_IDLE_MS = 1000;
/** How often playing applies what is due (and so how often the page renders). */
const TICK_MS = 50;
/** A played change stays highlighted at least this long, so that at 60× it can still be seen. */
const HIGHLIGHT_MS = 1200;

export interface ReplayPosition {
  /** The last record included. */
  seq: number;
  /** The moment shown (ms, UTC). */
  at: number;
}

/** The records after a point of the history, fetched a page ahead of need. */
class RecordFeed {
  private queue: ReplayRecord[] = [];
  private head = 0;
  private fetchedTo: number;
  private loading: Promise<void> | undefined;
  /** The last page came back short: this was the present when it was fetched. */
  ended = false;

  constructor(
    private readonly base: string,
    after: number,
  ) {
    this.fetchedTo = after;
  }

  get next(): ReplayRecord | undefined {
    return this.queue[this.head];
  }

  /** The waiting records up to `seq` (or due at `at`), taken off the feed. */
  take(until: (r: ReplayRecord) => boolean): ReplayRecord[] {
    const start = this.head;
    while (this.head < this.queue.length && until(this.queue[this.head]!)) this.head++;
    const taken = this.queue.slice(start, this.head);
    if (this.head > PAGE) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return taken;
  }

  /** Fetches the next page unless enough are waiting (or one is on its way). */
  prefetch(): Promise<void> {
    if (this.ended || this.queue.length - this.head >= PAGE / 2) return Promise.resolve();
    return this.fetchPage();
  }

  /** Makes sure every record up to `seq` has been fetched. */
  async fill(seq: number): Promise<void> {
    while (this.fetchedTo < seq && !this.ended) await this.fetchPage();
  }

  private fetchPage(): Promise<void> {
    this.loading ??= apiGetRaw(`${this.base}/replay/updates?after=${this.fetchedTo}&limit=${PAGE}`)
      .then(async (res) => {
        const records = decodeReplayRecords(new Uint8Array(await res.arrayBuffer()));
        this.queue.push(...records);
        if (records.length > 0) this.fetchedTo = records.at(-1)!.seq;
        this.ended = records.length < PAGE;
      })
      .finally(() => (this.loading = undefined));
    return this.loading;
  }
}

export class Replay {
  readonly index = new Store<HistoryEvents | undefined>(undefined);
  /** The document as of `position`; a new copy after every seek. */
  readonly shown = new Store<ReplayedDoc | undefined>(undefined);
  readonly position = new Store<ReplayPosition>({ seq: 0, at: 0 }, (a, b) => a.seq === b.seq && a.at === b.at);
  readonly step = new Store<ReplayStep>(NO_STEP);
  /** The speed while playing. */
  readonly playing = new Store<Speed | undefined>(undefined);
  readonly error = new Store<string | undefined>(undefined);
  private readonly base: string;
  private feed: RecordFeed | undefined;
  /** Bumped by every seek: an answer for an older one is dropped. */
  private ticket = 0;
  private seeking: AbortController | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastTick = 0;
  private recent: Array<{ wall: number; events: HistoryEvent[] }> = [];
  private refreshing: Promise<void> | undefined;

  constructor(readonly incidentId: string) {
    this.base = `/api/incidents/${encodeURIComponent(incidentId)}`;
  }

  /** Loads the event index and shows the incident as it began. */
  async open(): Promise<void> {
    try {
      const index = await api<HistoryEvents>('GET', `${this.base}/events`);
      this.index.set(index);
      await this.seek(index.firstAt ? Date.parse(index.firstAt) : Date.now());
    } catch (err) {
      this.error.set((err as Error).message);
    }
  }

  userName = (id: string): string => this.index.get()?.users.find((u) => u.id === id)?.name ?? id;

  /** Shows the document as it was at `at` (ms, UTC). */
  async seek(at: number): Promise<void> {
    this.pause();
    const ticket = ++this.ticket;
    this.seeking?.abort();
    const seeking = (this.seeking = new AbortController());
    try {
      const res = await apiGetRaw(`${this.base}/replay/state?at=${new Date(at).toISOString()}`, seeking.signal);
      const state = new Uint8Array(await res.arrayBuffer());
      if (ticket !== this.ticket) return;
      const seq = Number(res.headers.get('X-Bridgelog-Seq') ?? 0);
      this.show(new ReplayedDoc(state), { seq, at });
      this.feed = new RecordFeed(this.base, seq);
      // The last change before the moment, as if it had just been played.
      const last = eventsBetween(this.index.get()?.events ?? [], seq - 1, seq);
      this.recent = [{ wall: performance.now(), events: last }];
      this.describe();
      this.error.set(undefined);
    } catch (err) {
      if (ticket === this.ticket && !seeking.signal.aborted) this.error.set(`Could not show that moment: ${(err as Error).message}`);
    }
  }

  play(speed: Speed): void {
    if (!this.shown.get()) return;
    const wasPlaying = this.playing.get() !== undefined;
    this.playing.set(speed);
    if (wasPlaying || !this.feed) return;
    this.feed.ended = false; // more may have been written since
    this.lastTick = performance.now();
    this.timer = setTimeout(this.tick, 0);
  }

  pause(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.playing.set(undefined);
  }

  /** Plays the next event of the index in one step (or the rest of the one the position is in). */
  async nextChange(): Promise<void> {
    this.pause();
    const { seq } = this.position.get();
    const event = this.index.get()?.events.find((e) => e.toSeq > seq);
    const shown = this.shown.get();
    if (!event || !this.feed || !shown) return;
    const ticket = this.ticket;
    try {
      await this.feed.fill(event.toSeq);
    } catch (err) {
      return this.error.set(`Could not fetch the history: ${(err as Error).message}`);
    }
    if (ticket !== this.ticket) return;
    const records = this.feed.take((r) => r.seq <= event.toSeq);
    shown.apply(records);
    this.position.set({ seq: records.at(-1)?.seq ?? seq, at: Date.parse(event.toAt) });
    this.recent = [{ wall: performance.now(), events: eventsBetween(this.index.get()!.events, seq, event.toSeq) }];
    this.describe();
  }

  destroy(): void {
    this.pause();
    this.ticket++;
    this.seeking?.abort();
    this.shown.get()?.destroy();
  }

  private show(doc: ReplayedDoc, position: ReplayPosition): void {
    const old = this.shown.get();
    this.position.set(position);
    this.shown.set(doc);
    old?.destroy();
  }

  private tick = (): void => {
    const speed = this.playing.get();
    const feed = this.feed;
    const shown = this.shown.get();
    if (speed === undefined || !feed || !shown) return;
    const now = performance.now();
    const elapsed = now - this.lastTick;
    this.lastTick = now;
    const ticket = this.ticket;
    feed.prefetch().catch((err: Error) => {
      if (ticket !== this.ticket) return;
      this.pause();
      this.error.set(`Could not fetch the history: ${err.message}`);
    });

    const next = feed.next;
    const { seq, at } = this.position.get();
    if (!next) {
      // Caught up with the present; otherwise the clock waits for the page on its way.
      if (feed.ended) this.pause();
      else this.timer = setTimeout(this.tick, TICK_MS);
      return;
    }
    const clock = Math.max(at + elapsed * speed, next.at - MAX_IDLE_MS * speed);
    const due = feed.take((r) => r.at <= clock);
    if (due.length > 0) {
      shown.apply(due);
      const last = due.at(-1)!;
      // With nothing fetched after it (caught up, or a page on its way) the clock stops at the last record.
      this.position.set({ seq: last.seq, at: feed.next ? clock : last.at });
      this.played(seq, last.seq);
    } else {
      this.position.set({ seq, at: clock });
    }
    this.timer = setTimeout(this.tick, TICK_MS);
  };

  /** Highlights what records `from` (exclusive) to `to` did, with what was played just before. */
  private played(from: number, to: number): void {
    const index = this.index.get();
    if (index && to > index.seq) void this.refreshIndex();
    const wall = performance.now();
    this.recent = this.recent.filter((r) => wall - r.wall < HIGHLIGHT_MS);
    this.recent.push({ wall, events: eventsBetween(index?.events ?? [], from, to) });
    this.describe();
  }

  private describe(): void {
    const shown = this.shown.get();
    const events = [...new Set(this.recent.flatMap((r) => r.events))];
    this.step.set(events.length === 0 || !shown ? NO_STEP : describeEvents(events, { user: this.userName, title: (id) => shown.titleOf(id), deleted: (id) => shown.isDeleted(id) }));
  }

  /** History written since the replay opened: its events join the index (the first may extend the last one known). */
  private refreshIndex(): Promise<void> {
    this.refreshing ??= (async () => {
      const index = this.index.get()!;
      const more = await api<HistoryEvents>('GET', `${this.base}/events?after=${index.seq}`);
      const events = [...index.events.filter((e) => e.seq < (more.events[0]?.seq ?? Infinity)), ...more.events];
      const users = [...index.users, ...more.users.filter((u) => !index.users.some((k) => k.id === u.id))];
      this.index.set({ ...more, firstAt: index.firstAt ?? more.firstAt, users, events });
    })()
      .catch(() => undefined)
      .finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }
}
