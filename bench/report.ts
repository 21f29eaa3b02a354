/** The Markdown tables of a run: every server's raw figures, then Bridgelog's ratios to each peer. */
import type { CaptureResult, ToolRun } from './capture.js';
import type { ClusterPlan, ClusterResult } from './cluster.js';
import { clusterSection } from './cluster-report.js';
import type { ColdJoinResult } from './cold-join.js';
import type { ExportResult, ExportShape } from './export.js';
import { renderReplay, type ReplayResult } from './replay.js';
import type { FanoutResult } from './fanout.js';
import type { MemoryResult } from './memory.js';
import type { LoadShape } from './fanout.js';
import { PEERS, SERVER_KINDS, type ServerKind } from './servers.js';
import type { Stats } from './lib.js';

export interface Plan {
  /** Fan-out sizes (1 writer, 20 updates/s). */
  readers: number[];
  seconds: number;
  /** Runs per server of each fan-out size and of the many-writers load, pooled. */
  repeats: number;
  writers: LoadShape;
  entries: number;
  updates: number;
  latecomers: number;
  idleDocs: number;
  /** The incidents the export benchmark builds and exports: the same entries with more screenshots, to see memory stay flat. */
  exportIncidents: ExportShape[];
  /** The cluster scenario (absent from plans made before it existed). */
  cluster?: ClusterPlan;
}

/** Everything a run measured: what .bench/results.json holds. */
export interface BenchResults {
  machine: string;
  at: string;
  quick: boolean;
  loadAverage: number[];
  plan: Plan;
  fanout: FanoutResult[];
  manyWriters: FanoutResult[];
  coldJoin: ColdJoinResult[];
  memory: MemoryResult[];
  /** Capture analysis beside capinfos and tshark, and upload; absent from runs made before it was part of `npm run bench`. */
  capture?: CaptureResult;
  /** Absent from runs made before the replay benchmark existed. */
  replay?: ReplayResult;
  /** Absent from runs made before the export benchmark was part of `npm run bench`. */
  export?: ExportResult[];
  /** A bare append + fdatasync on the disk under Bridgelog's data, measured at the start of the run (absent from older runs). */
  diskSync?: Stats;
  /** Three instances of Bridgelog and of Hocuspocus on PostgreSQL and Redis (absent from runs made before it existed). */
  cluster?: ClusterResult;
  /** The scenarios run, when they were chosen with --only. */
  scenarios?: string[];
}

export const NAMES: Record<ServerKind, string> = { bridgelog: 'Bridgelog', 'y-websocket-server': 'y-websocket-server', hocuspocus: 'Hocuspocus' };

export const fmt = (n: number | null | undefined) =>
  n === null || n === undefined || Number.isNaN(n) ? '–' : Math.abs(n) < 10 ? n.toFixed(2) : Math.abs(n) < 100 ? n.toFixed(1) : n.toFixed(0);
const pct = (n: number) => `${(n * 100).toFixed(n === 1 ? 0 : 2)} %`;
/** a ÷ b, to two decimals, or two significant digits below 0.1 (a ratio of 0.003 is not 0.00×). */
const ratio = (a: number, b: number) => {
  const r = a / b;
  return Number.isFinite(r) ? `${r < 0.095 && r > 0 ? r.toPrecision(2) : r.toFixed(2)}×` : '–';
};
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

function table(header: string[], align: string[], rows: string[][]): string[] {
  return [`| ${header.join(' | ')} |`, `|${align.join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
}

const byServer = <T extends { server: ServerKind }>(rows: T[]) => SERVER_KINDS.flatMap((k) => rows.filter((r) => r.server === k));

/** Fan-out and many-writers runs, grouped by load shape. */
export function fanoutSection(results: FanoutResult[], groupLabel: (r: FanoutResult) => string, groupHeader: string): string[] {
  const groups = [...new Set(results.map(groupLabel))];
  const raw = table(
    [groupHeader, 'server', 'delivered', 'latency p50 / p99 / max (ms)', 'p99 of each run (ms)', 'durable ack p50 / p99 (ms)', 'durable /s', 'updates per fdatasync', 'fdatasync mean (ms)', 'server CPU', 'machine busy', "others' CPU"],
    ['---:', '---', '---:', '---', '---', '---', '---:', '---:', '---:', '---:', '---:', '---:'],
    groups.flatMap((g) =>
      byServer(results.filter((r) => groupLabel(r) === g)).map((r) => [
        g,
        NAMES[r.server],
        pct(r.deliveryRatio),
        `${fmt(r.latency.p50)} / ${fmt(r.latency.p99)} / ${fmt(r.latency.max)}`,
        r.runs.map((run) => fmt(run.latency.p99)).join(', '),
        r.durable ? `${fmt(r.durable.p50)} / ${fmt(r.durable.p99)}` : '–',
        fmt(r.durablePerSecond),
        fmt(r.updatesPerSync),
        fmt(r.fdatasyncMeanMs),
        `${(r.serverCpu * 100).toFixed(0)} %`,
        `${(r.machineBusy * 100).toFixed(0)} %`,
        `${r.othersCpu.toFixed(2)} cores`,
      ]),
    ),
  );
  const ratios = table(
    [groupHeader, 'Bridgelog p99 (ms)', ...PEERS.map((p) => `÷ ${NAMES[p]} p99`), 'Bridgelog p50 ÷ faster peer p50', 'p99 ≤ faster peer and 100 % delivered'],
    ['---:', '---:', ...PEERS.map(() => '---:'), '---:', '---'],
    groups.map((g) => {
      const rows = results.filter((r) => groupLabel(r) === g);
      const bl = rows.find((r) => r.server === 'bridgelog');
      const peers = PEERS.map((p) => rows.find((r) => r.server === p));
      const fasterP99 = Math.min(...peers.map((p) => p?.latency.p99 ?? Infinity));
      const fasterP50 = Math.min(...peers.map((p) => p?.latency.p50 ?? Infinity));
      const met = bl ? bl.latency.p99 <= fasterP99 && bl.deliveryRatio === 1 : false;
      return [
        g,
        fmt(bl?.latency.p99),
        ...peers.map((p) => ratio(bl?.latency.p99 ?? NaN, p?.latency.p99 ?? NaN)),
        ratio(bl?.latency.p50 ?? NaN, fasterP50),
        bl ? (met ? 'yes' : `**no** (${fmt(bl.latency.p99)} vs ${fmt(fasterP99)} ms, ${pct(bl.deliveryRatio)})`) : '–',
      ];
    }),
  );
  // Runs made before the split was measured have no such fields.
  const split = results.filter((r) => r.firstReader);
  const where = table(
    [groupHeader, 'server', 'send → first reader p50 / p99 (ms)', 'first → last reader p50 / p99 (ms)', 'fdatasync mean (ms)'],
    ['---:', '---', '---', '---', '---:'],
    groups.flatMap((g) =>
      byServer(split.filter((r) => groupLabel(r) === g)).map((r) => [
        g,
        NAMES[r.server],
        `${fmt(r.firstReader.p50)} / ${fmt(r.firstReader.p99)}`,
        `${fmt(r.firstToLast.p50)} / ${fmt(r.firstToLast.p99)}`,
        fmt(r.fdatasyncMeanMs),
      ]),
    ),
  );
  const whereNote =
    'Per update: the time to its first reader is the path before the broadcast (parse, apply, and for Bridgelog the fdatasync) plus one delivery; first to last reader is the broadcast loop and the readers taking it in.';
  return [...raw, '', ...ratios, ...(split.length > 0 ? ['', whereNote, '', ...where] : [])];
}

export function coldJoinSection(results: ColdJoinResult[]): string[] {
  const where = { memory: 'in memory', checkpoint: 'on disk: checkpoint', log: 'on disk: log only (100k records)' };
  const raw = table(
    ['server', 'document', '1 latecomer, median (all rounds) (ms)', 'N at once: p50 / last (ms)', 'full state (MB)', 'server load (ms)'],
    ['---', '---', '---', '---', '---:', '---:'],
    results.map((r) => [
      NAMES[r.server],
      where[r.from],
      `${fmt(median(r.single))} (${r.single.map(fmt).join(', ')})`,
      r.concurrent ? `${r.concurrentCount}: ${fmt(r.concurrent.p50)} / ${fmt(r.concurrent.max)}` : '–',
      (r.stateBytes / 1e6).toFixed(2),
      r.serverLoadMs.length ? fmt(median(r.serverLoadMs)) : '–',
    ]),
  );
  const mem = (k: ServerKind) => results.find((r) => r.server === k && r.from === 'memory');
  const bl = mem('bridgelog');
  const ratios = table(
    ['Bridgelog, in memory ÷', '1 latecomer (median)', 'N at once (last)'],
    ['---', '---:', '---:'],
    PEERS.map((p) => [NAMES[p], ratio(median(bl?.single ?? []), median(mem(p)?.single ?? [])), ratio(bl?.concurrent?.max ?? NaN, mem(p)?.concurrent?.max ?? NaN)]),
  );
  return [...raw, '', ...ratios];
}

export function memorySection(results: MemoryResult[]): string[] {
  const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
  const raw = table(
    ['server', 'per connection: heap / RSS', 'per document: heap / RSS', 'all added ÷ connections: heap / RSS', 'heap MB: before → 2 per doc → all left', 'RSS MB: before → 2 per doc → all left', 'docs loaded → after all left', 'unloaded after'],
    ['---', '---', '---', '---', '---', '---', '---', '---:'],
    byServer(results).map((r) => [
      NAMES[r.server],
      `${kb(r.perConnection.heap)} / ${kb(r.perConnection.rss)}`,
      `${kb(r.perDoc.heap)} / ${kb(r.perDoc.rss)}`,
      `${kb(r.allInPerConnection.heap)} / ${kb(r.allInPerConnection.rss)}`,
      `${mb(r.baseline.heapUsed)} → ${mb(r.twoEach.heapUsed)} → ${mb(r.afterClose.heapUsed)}`,
      `${mb(r.baseline.rss)} → ${mb(r.twoEach.rss)} → ${mb(r.afterClose.rss)}`,
      `${r.loadedWhileConnected} → ${r.loadedAfterClose}`,
      r.unloadedAfterMs === null ? 'never (in the wait)' : `${(r.unloadedAfterMs / 1000).toFixed(1)} s`,
    ]),
  );
  const bl = results.find((r) => r.server === 'bridgelog');
  // Ratios of heap only: RSS moves in allocator-sized steps and is noise at this scale.
  const ratios = table(
    ['Bridgelog ÷ (heap)', 'per connection', 'per document', 'all added ÷ connections'],
    ['---', '---:', '---:', '---:'],
    PEERS.map((p) => {
      const peer = results.find((r) => r.server === p);
      return [
        NAMES[p],
        ratio(bl?.perConnection.heap ?? NaN, peer?.perConnection.heap ?? NaN),
        ratio(bl?.perDoc.heap ?? NaN, peer?.perDoc.heap ?? NaN),
        ratio(bl?.allInPerConnection.heap ?? NaN, peer?.allInPerConnection.heap ?? NaN),
      ];
    }),
  );
  return [...raw, '', ...ratios];
}

/** Markdown against its 500 ms target; HTML's memory beside its size (flat: the growth does not follow the size). */
export function exportSection(results: ExportResult[]): string[] {
  const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  return table(
    ['incident', 'Markdown: median of 5 (min–max)', 'Markdown ≤ 500 ms', 'HTML streamed', 'server RSS during HTML', "others' CPU"],
    ['---', '---:', '---', '---', '---', '---:'],
    results.map((r) => [
      `${r.shape.entries.toLocaleString('en')} entries, ${r.shape.screenshots} screenshots`,
      `${fmt(median(r.markdownMs))} ms (${fmt(r.markdownMs[0])}–${fmt(r.markdownMs.at(-1))}), ${mib(r.markdownBytes)}`,
      median(r.markdownMs) <= 500 ? 'yes' : '**no**',
      `${mib(r.htmlBytes)} in ${fmt(r.htmlMs / 1000)} s`,
      `${mib(r.rssBefore)} → ${mib(r.rssPeak)} (+${mib(r.rssPeak - r.rssBefore)})`,
      `${r.othersCpu.toFixed(2)} cores`,
    ]),
  );
}

/** Our analysis beside Wireshark's tools (MB/s of the median run, the highest peak RSS), then every upload. */
export function captureSection(r: CaptureResult): string[] {
  const mb = r.bytes / 1e6;
  const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);
  const others = (runs: Array<{ othersCpu: number }>) => runs.map((x) => x.othersCpu.toFixed(2)).join(', ');
  const tool = (name: string, runs: CaptureResult['tools']['bridgelog']) => {
    const s = median(runs.map((x) => x.seconds));
    return [name, `${s.toFixed(2)} (${runs.map((x) => x.seconds.toFixed(2)).join(', ')})`, (mb / s).toFixed(0), Math.max(...runs.map((x) => x.rssMiB)).toFixed(0), others(runs)];
  };
  const ours = r.tools.bridgelog;
  const oursMBps = mb / median(ours.map((x) => x.seconds));
  const oursRss = Math.max(...ours.map((x) => x.rssMiB), ...r.hour.tools.bridgelog.map((x) => x.rssMiB));
  const hourMB = r.hour.bytes / 1e6;
  const hourTool = (name: string, runs: ToolRun[]) => {
    const s = median(runs.map((x) => x.seconds));
    return [name, `${s.toFixed(2)} (${runs.map((x) => x.seconds.toFixed(2)).join(', ')})`, (hourMB / s).toFixed(0), Math.max(...runs.map((x) => x.rssMiB)).toFixed(0), others(runs)];
  };
  const up = r.upload.runs;
  const upMBps = mb / median(up.map((x) => x.seconds));
  const growth = Math.max(...up.map((x) => x.rssPeak - x.rssBefore));
  return [
    `A ${mb.toFixed(0)} MB pcap (${r.packets.toLocaleString('en')} packets, bursty traffic) from the page cache; each tool a process of its own, timed with GNU time (process start included).`,
    '',
    ...table(
      ['tool', 'seconds: median (runs)', 'MB/s', 'peak RSS (MiB)', "others' CPU (cores)"],
      ['---', '---:', '---:', '---:', '---:'],
      [
        tool('Bridgelog analysis (all views, bursts, conversations, protocol mix)', ours),
        tool('`capinfos -c -d` (count and duration only)', r.tools.capinfos),
        tool('`tshark -q -z io,stat,0.001`', r.tools.tshark),
      ],
    ),
    '',
    `What an analysis holds grows with a capture's span, not its size: the 1 ms IO graph of an hour is ${r.hour.buckets.toLocaleString('en')} buckets (12 bytes each while counting). ` +
      `A ${hourMB.toFixed(0)} MB pcap spanning an hour (${r.hour.packets.toLocaleString('en')} packets), the same way:`,
    '',
    ...table(
      ['tool', 'seconds: median (runs)', 'MB/s', 'peak RSS (MiB)', "others' CPU (cores)"],
      ['---', '---:', '---:', '---:', '---:'],
      [hourTool('Bridgelog analysis', r.hour.tools.bridgelog), hourTool('`capinfos -c -d`', r.hour.tools.capinfos)],
    ),
    '',
    `Upload of the same ${mb.toFixed(0)} MB file over loopback by ${r.upload.client} (multipart, streamed from disk) to a Bridgelog server of its own; ` +
      `idle server RSS ${mib(r.upload.rssCold)} MiB, ${mib(r.upload.rssWarm)} MiB after a first small upload (which starts the hashing worker).`,
    '',
    ...table(
      ['run', 'seconds', 'MB/s', 'server RSS before → peak (MiB)', 'server CPU (s)', "others' CPU (cores)"],
      ['---:', '---:', '---:', '---', '---:', '---:'],
      up.map((x, i) => [String(i + 1), x.seconds.toFixed(2), (mb / x.seconds).toFixed(0), `${mib(x.rssBefore)} → ${mib(x.rssPeak)} (+${mib(x.rssPeak - x.rssBefore)})`, x.serverCpu.toFixed(2), x.othersCpu.toFixed(2)]),
    ),
    '',
    `Targets: analysis ≥ 1,000 MB/s ${oursMBps >= 1000 ? 'met' : '**missed**'} (${oursMBps.toFixed(0)}), peak RSS < 150 MiB at any size or span ${oursRss < 150 ? 'met' : '**missed**'} (at most ${oursRss.toFixed(0)}); ` +
      `upload ≥ 300 MB/s ${upMBps >= 300 ? 'met' : '**missed**'} (median ${upMBps.toFixed(0)}), RSS growth < 64 MiB ${growth < 64 * 2 ** 20 ? 'met' : '**missed**'} (at most +${mib(growth)}).`,
  ];
}

export function renderReport(r: BenchResults): string {
  const { plan } = r;
  const w = plan.writers;
  const singleNode = r.fanout.length + r.manyWriters.length + r.coldJoin.length + r.memory.length > 0;
  const only = r.scenarios ? ` (${r.scenarios.join(', ')})` : '';
  const lines = [
    `## Run of ${r.at}${only}${r.quick ? ' (--quick)' : ''}`,
    '',
    `Machine: ${r.machine}; load average at start ${r.loadAverage.map((l) => l.toFixed(2)).join(' ')}. ` +
      'Each server in its own process; load generators in others (raw sockets; readers never decode Yjs).' +
      (singleNode ? ' Peers: `@y/websocket-server` 0.1.1 and `@hocuspocus/server` 3.4.4, no persistence; Bridgelog fdatasyncs every update before broadcasting it.' : '') +
      (r.diskSync ? ` On this disk a bare 200-byte append + fdatasync took ${fmt(r.diskSync.p50)} ms p50 / ${fmt(r.diskSync.p99)} ms p99 / ${fmt(r.diskSync.max)} ms max at the start of the run.` : ''),
    '',
  ];
  if (r.fanout.length) {
    const runs = plan.repeats > 1 ? ` × ${plan.repeats} runs per server (pooled)` : '';
    lines.push(`### 1. Fan-out: 1 writer at 20 updates/s, ${plan.seconds} s${runs}`, '', ...fanoutSection(r.fanout, (f) => String(f.shape.readers), 'readers'), '');
  }
  if (r.manyWriters.length) {
    const load = (f: FanoutResult) => `${f.shape.writers} × ${f.shape.rate}/s → ${f.shape.readers}`;
    const runs = plan.repeats > 1 ? ` × ${plan.repeats} runs per server (pooled)` : '';
    lines.push(`### 2. Many writers: ${w.writers} writers × ${w.rate} updates/s, ${w.readers} readers, ${w.seconds} s${runs}`, '', ...fanoutSection(r.manyWriters, load, 'load'), '');
  }
  if (r.coldJoin.length) {
    lines.push(`### 3. Cold join: an incident of ${plan.entries.toLocaleString('en')} entries (${plan.updates.toLocaleString('en')} updates)`, '', ...coldJoinSection(r.coldJoin), '');
  }
  if (r.memory.length) {
    lines.push(`### 4. Memory: ${plan.idleDocs.toLocaleString('en')} idle incidents, 2 idle connections each`, '', ...memorySection(r.memory), '');
  }
  if (r.replay) {
    lines.push('### Replay: seek, play and storage of a long history (Bridgelog only)', '', ...renderReplay(r.replay), '');
  }
  if (r.capture) {
    lines.push('### Capture analysis and upload (Bridgelog beside capinfos and tshark)', '', ...captureSection(r.capture), '');
  }
  if (r.cluster) {
    lines.push('### Cluster: three instances on one PostgreSQL and Redis, behind HAProxy (Bridgelog beside Hocuspocus)', '', ...clusterSection(r.cluster), '');
  }
  if (r.export?.length) {
    lines.push('### Export: Markdown time, HTML streamed with flat memory (Bridgelog only, a server of its own)', '', ...exportSection(r.export), '');
  }
  return lines.join('\n');
}
