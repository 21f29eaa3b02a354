/**
 * A compact inverted index in memory: for each word, the records holding it and how often, in
 * growable Int32Arrays; BM25 ranking; AND queries that start from the rarest word and look the others
 * up by binary search; top results kept without materialising every match.
 *
 * Written for Bridgelog because the maintained libraries measured did not fit 200,000 entries
 * (BENCHMARKS.md, "Search"): MiniSearch took 759 MiB of heap and a minute to build (on a busy machine), and 100+ ms for a
 * word in 10% of the records (it builds a result object per match before anyone filters or counts).
 *
 * Records are numbered as they are added (a replaced record gets a new number), so every posting list
 * is in number order. A removed record is only marked; lists are compacted when more than half of
 * what they hold is removed.
 */

/** BM25's usual constants. */
const K1 = 1.2;
const B = 0.75;
/** A word in the title counts this many times. */
export const TITLE_WEIGHT = 2;
/** A prefix stands for at most this many words (the most frequent first). */
const MAX_PREFIX_TERMS = 256;

class Posting {
  docs = new Int32Array(2);
  tfs = new Int32Array(2);
  n = 0;

  push(doc: number, tf: number): void {
    if (this.n === this.docs.length) {
      const docs = new Int32Array(this.n * 2);
      docs.set(this.docs);
      this.docs = docs;
      const tfs = new Int32Array(this.n * 2);
      tfs.set(this.tfs);
      this.tfs = tfs;
    }
    this.docs[this.n] = doc;
    this.tfs[this.n] = tf;
    this.n++;
  }

  /** Index of `doc` in the list, or -1. */
  find(doc: number): number {
    let lo = 0;
    let hi = this.n - 1;
    const docs = this.docs;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = docs[mid]!;
      if (v === doc) return mid;
      if (v < doc) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }
}

/** What a query word matches: one posting list, or several merged (a prefix). */
interface WordMatch {
  /** Records holding the word, in number order, with their term frequency. */
  docs: Int32Array;
  tfs: Int32Array;
  n: number;
  /** Binary search over `docs` (a single posting list) or a map (merged). */
  tfOf(doc: number): number;
}

function single(p: Posting): WordMatch {
  return {
    docs: p.docs,
    tfs: p.tfs,
    n: p.n,
    tfOf: (doc) => {
      const i = p.find(doc);
      return i === -1 ? 0 : p.tfs[i]!;
    },
  };
}

function merged(postings: Posting[]): WordMatch {
  const map = new Map<number, number>();
  for (const p of postings) for (let i = 0; i < p.n; i++) map.set(p.docs[i]!, (map.get(p.docs[i]!) ?? 0) + p.tfs[i]!);
  const docs = Int32Array.from(map.keys()).sort();
  const tfs = Int32Array.from(docs, (d) => map.get(d)!);
  return { docs, tfs, n: docs.length, tfOf: (doc) => map.get(doc) ?? 0 };
}

export interface Scored {
  doc: number;
  score: number;
}

/** Words are found by prefix through buckets of their first this many characters. */
const BUCKET = 3;

export class InvertedIndex<R> {
  private readonly terms = new Map<string, Posting>();
  /** The words of 3 characters or more, by their first 3: a prefix looks through one bucket, not every word. */
  private buckets = new Map<string, string[]>();
  /** By record number: the record (undefined once removed) and its weighted length. */
  private readonly records: Array<R | undefined> = [];
  private readonly lengths: number[] = [];
  private alive = 0;
  private removed = 0;
  private totalLength = 0;
  /** Removed records still in posting lists. */
  private stale = 0;

  /** Adds a record with the words of its title and body; returns its number. */
  add(record: R, titleWords: string[], bodyWords: string[]): number {
    const doc = this.records.length;
    const tf = new Map<string, number>();
    for (const w of titleWords) tf.set(w, (tf.get(w) ?? 0) + TITLE_WEIGHT);
    for (const w of bodyWords) tf.set(w, (tf.get(w) ?? 0) + 1);
    for (const [w, n] of tf) {
      let p = this.terms.get(w);
      if (!p) {
        this.terms.set(w, (p = new Posting()));
        this.bucket(w);
      }
      p.push(doc, n);
    }
    const length = titleWords.length * TITLE_WEIGHT + bodyWords.length;
    this.records.push(record);
    this.lengths.push(length);
    this.alive++;
    this.totalLength += length;
    return doc;
  }

  remove(doc: number): void {
    if (this.records[doc] === undefined) return;
    this.records[doc] = undefined;
    this.alive--;
    this.removed++;
    this.stale++;
    this.totalLength -= this.lengths[doc]!;
    if (this.stale > 10_000 && this.stale > this.alive) this.compact();
  }

  record(doc: number): R | undefined {
    return this.records[doc];
  }

  get size(): number {
    return this.alive;
  }

  /**
   * Records holding every word (the last one also as a prefix, when `prefixLast`) that `accept`
   * takes: the best `limit` by BM25, and how many there are in all. Without words: every record
   * `accept` takes, scored 0.
   */
  searchAll(words: string[], prefixLast: boolean, accept: (record: R) => boolean, limit: number): { top: Scored[]; total: number } {
    if (words.length === 0) return this.everything(accept, limit);
    const matches: WordMatch[] = [];
    for (let i = 0; i < words.length; i++) {
      const m = this.match(words[i]!, prefixLast && i === words.length - 1);
      if (!m || m.n === 0) return { top: [], total: 0 };
      matches.push(m);
    }
    // The rarest word's records are the candidates; the others are looked up.
    const order = matches.map((m, i) => ({ m, idf: this.idf(m.n), i })).sort((a, b) => a.m.n - b.m.n);
    const first = order[0]!;
    const rest = order.slice(1);
    const avg = this.totalLength / Math.max(1, this.alive);
    const top: Scored[] = [];
    let total = 0;
    let floor = -Infinity;
    for (let i = 0; i < first.m.n; i++) {
      const doc = first.m.docs[i]!;
      const record = this.records[doc];
      if (record === undefined) continue;
      const norm = K1 * (1 - B + (B * this.lengths[doc]!) / avg);
      let tf = first.m.tfs[i]!;
      let score = (first.idf * tf * (K1 + 1)) / (tf + norm);
      let all = true;
      for (const o of rest) {
        tf = o.m.tfOf(doc);
        if (tf === 0) {
          all = false;
          break;
        }
        score += (o.idf * tf * (K1 + 1)) / (tf + norm);
      }
      if (!all || !accept(record)) continue;
      total++;
      if (top.length < limit || score > floor) {
        top.push({ doc, score });
        if (top.length > limit * 4) floor = trim(top, limit);
      }
    }
    trim(top, limit);
    return { top, total };
  }

  /** Records holding any of the words, best first (BM25 over the words each holds). */
  searchAny(words: string[], accept: (record: R) => boolean, limit: number): Scored[] {
    const avg = this.totalLength / Math.max(1, this.alive);
    const scores = new Map<number, number>();
    for (const w of new Set(words)) {
      const p = this.terms.get(w);
      if (!p) continue;
      const idf = this.idf(p.n);
      for (let i = 0; i < p.n; i++) {
        const doc = p.docs[i]!;
        if (this.records[doc] === undefined) continue;
        const tf = p.tfs[i]!;
        const norm = K1 * (1 - B + (B * this.lengths[doc]!) / avg);
        scores.set(doc, (scores.get(doc) ?? 0) + (idf * tf * (K1 + 1)) / (tf + norm));
      }
    }
    const top: Scored[] = [];
    for (const [doc, score] of scores) if (accept(this.records[doc]!)) top.push({ doc, score });
    trim(top, limit);
    return top;
  }

  private everything(accept: (record: R) => boolean, limit: number): { top: Scored[]; total: number } {
    const top: Scored[] = [];
    let total = 0;
    for (let doc = this.records.length - 1; doc >= 0; doc--) {
      const record = this.records[doc];
      if (record === undefined || !accept(record)) continue;
      total++;
      if (top.length < limit) top.push({ doc, score: 0 });
    }
    return { top, total };
  }

  private idf(df: number): number {
    return Math.log(1 + (this.alive - df + 0.5) / (df + 0.5));
  }

  private match(word: string, prefix: boolean): WordMatch | undefined {
    const exact = this.terms.get(word);
    if (!prefix || word.length < 3) return exact ? single(exact) : undefined;
    const postings: Posting[] = [];
    for (const term of this.buckets.get(word.slice(0, BUCKET)) ?? []) {
      const p = term.startsWith(word) ? this.terms.get(term) : undefined;
      if (p) postings.push(p);
    }
    if (postings.length === 0) return undefined;
    if (postings.length === 1) return single(postings[0]!);
    postings.sort((a, b) => b.n - a.n);
    return merged(postings.slice(0, MAX_PREFIX_TERMS));
  }

  /** Drops removed records from every posting list. */
  private compact(): void {
    for (const [term, p] of this.terms) {
      let j = 0;
      for (let i = 0; i < p.n; i++) {
        if (this.records[p.docs[i]!] === undefined) continue;
        p.docs[j] = p.docs[i]!;
        p.tfs[j] = p.tfs[i]!;
        j++;
      }
      if (j === 0) this.terms.delete(term);
      else if (j < p.docs.length / 4) {
        p.docs = p.docs.slice(0, Math.max(2, j * 2));
        p.tfs = p.tfs.slice(0, Math.max(2, j * 2));
      }
      p.n = j;
    }
    this.stale = 0;
    this.buckets = new Map();
    for (const term of this.terms.keys()) this.bucket(term);
  }

  private bucket(term: string): void {
    if (term.length < BUCKET) return;
    const key = term.slice(0, BUCKET);
    const list = this.buckets.get(key);
    if (list) list.push(term);
    else this.buckets.set(key, [term]);
  }
}

/** Keeps the best `limit` in `top` (score, high first); returns the lowest score kept. */
function trim(top: Scored[], limit: number): number {
  top.sort((a, b) => b.score - a.score || a.doc - b.doc);
  top.length = Math.min(top.length, limit);
  return top.length === limit ? top[top.length - 1]!.score : -Infinity;
}
