/** The cluster scenario's Markdown: delivery across nodes, where the work went, the loss drill, the target. */
import type { ClusterLoadResult, ClusterResult } from './cluster.js';
import type { ClusterKind } from './cluster-servers.js';
import type { LoadShape } from './fanout.js';

const NAMES: Record<ClusterKind, string> = { bridgelog: 'Bridgelog', hocuspocus: 'Hocuspocus' };
/** Bridgelog's cross-node p99 may be at most this many times Hocuspocus's. */
const TARGET_RATIO = 1.5;

const fmt = (n: number | null | undefined) =>
  n === null || n === undefined || Number.isNaN(n) ? '–' : Math.abs(n) < 10 ? n.toFixed(2) : Math.abs(n) < 100 ? n.toFixed(1) : n.toFixed(0);
const pct = (n: number) => `${(n * 100).toFixed(n === 1 ? 0 : 2)} %`;
const cores = (n: number) => `${(n * 100).toFixed(0)} %`;
const load = (s: LoadShape) => `${s.writers} × ${s.rate}/s → ${s.readers}`;

function table(header: string[], align: string[], rows: string[][]): string[] {
  return [`| ${header.join(' | ')} |`, `|${align.join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
}

/** Whether a load met the target, and the sentence saying so. */
function verdict(bl: ClusterLoadResult | undefined, hp: ClusterLoadResult | undefined): { met: boolean; ratio: number } {
  const ratio = (bl?.otherNode.latency.p99 ?? NaN) / (hp?.otherNode.latency.p99 ?? NaN);
  return { met: ratio <= TARGET_RATIO && bl?.otherNode.deliveryRatio === 1 && bl.sameNode.deliveryRatio === 1, ratio };
}

export function clusterSection(r: ClusterResult): string[] {
  const { plan } = r;
  const loads = [...new Set(r.loads.map((l) => load(l.shape)))];
  const of = (label: string, server: ClusterKind) => r.loads.find((l) => load(l.shape) === label && l.server === server);
  const readers = r.loads[0]?.otherNode.readers ?? 0;
  const intro =
    `Three instances of each server on one PostgreSQL 15 (fsync and synchronous_commit on) and one Redis, ` +
    `every instance a process of its own: Bridgelog's compiled server in its PostgreSQL mode (a COMMIT before any broadcast or "persisted"; ` +
    `committed records to the other nodes over Redis), and Hocuspocus 3.4.4 with \`@hocuspocus/extension-redis\` and \`@hocuspocus/extension-database\` 3.4.4 ` +
    `(the whole document stored as bytea, at its default debounce: 2 s after the last change, at least every 10 s). ` +
    `Writers connect to instance 1's own port (where HAProxy's hash of the document's path sends all of a document's editors); ` +
    `${plan.readers} readers to the three instances' own ports, round-robin: ${readers} on the two other instances, the rest on the writers'. ` +
    `${plan.seconds} s per run, ${plan.repeats > 1 ? `${plan.repeats} runs per server (pooled), ` : ''}fresh instances each run. ` +
    `A bare single-row INSERT commit on this PostgreSQL took ${fmt(r.bareCommit.p50)} ms p50 / ${fmt(r.bareCommit.p99)} ms p99 / ${fmt(r.bareCommit.max)} ms max (${r.bareCommit.n} commits at the start).`;

  const raw = table(
    ['load', 'server', 'other node: delivered', 'other node: p50 / p99 / max (ms)', 'p99 of each run (ms)', "writer's node: p50 / p99 (ms)", "writer's ack p50 / p99 (ms)", 'acked /s', 'PostgreSQL writes /s'],
    ['---:', '---', '---:', '---', '---', '---', '---', '---:', '---:'],
    loads.flatMap((label) =>
      (['bridgelog', 'hocuspocus'] as const).flatMap((k) => {
        const l = of(label, k);
        if (!l) return [];
        return [[
          label,
          NAMES[k],
          pct(l.otherNode.deliveryRatio),
          `${fmt(l.otherNode.latency.p50)} / ${fmt(l.otherNode.latency.p99)} / ${fmt(l.otherNode.latency.max)}`,
          l.runs.map((run) => fmt(run.otherP99)).join(', '),
          `${fmt(l.sameNode.latency.p50)} / ${fmt(l.sameNode.latency.p99)}${l.sameNode.deliveryRatio < 1 ? ` (${pct(l.sameNode.deliveryRatio)})` : ''}`,
          `${fmt(l.ack.p50)} / ${fmt(l.ack.p99)} (${k === 'bridgelog' ? 'Saved: committed' : 'synced: in memory'})`,
          fmt(l.ackedPerSecond),
          `${fmt(l.writesPerSecond)} ${k === 'bridgelog' ? 'records' : 'document stores'}`,
        ]];
      }),
    ),
  );
  const path = table(
    ['load', 'server', "writer's ack p50 / p99", 'COMMIT round trip: mean (over 5 / 10 ms)', "send → first reader on the writer's node p50 / p99", 'send → first reader on another node p50 / p99', 'the hop between nodes (p50 difference)'],
    ['---:', '---', '---', '---:', '---', '---', '---:'],
    loads.flatMap((label) =>
      (['bridgelog', 'hocuspocus'] as const).flatMap((k) => {
        const l = of(label, k);
        if (!l) return [];
        return [[
          label,
          NAMES[k],
          `${fmt(l.ack.p50)} / ${fmt(l.ack.p99)}`,
          l.commits ? `${fmt(l.commits.meanMs)} (${pct(l.commits.over5ms)} / ${pct(l.commits.over10ms)})` : '–',
          `${fmt(l.sameNode.first.p50)} / ${fmt(l.sameNode.first.p99)}`,
          `${fmt(l.otherNode.first.p50)} / ${fmt(l.otherNode.first.p99)}`,
          fmt(l.otherNode.first.p50 - l.sameNode.first.p50),
        ]];
      }),
    ),
  );
  const work = table(
    ['load', 'server', 'CPU: writers\' instance / others', 'PostgreSQL CPU', 'Redis CPU', 'COMMITs /s (mean ms, updates each)', 'machine busy', "others' CPU"],
    ['---:', '---', '---', '---:', '---:', '---', '---:', '---:'],
    loads.flatMap((label) =>
      (['bridgelog', 'hocuspocus'] as const).flatMap((k) => {
        const l = of(label, k);
        if (!l) return [];
        return [[
          label,
          NAMES[k],
          l.cpu.instances.map(cores).join(' / '),
          cores(l.cpu.postgres),
          cores(l.cpu.redis),
          l.commits ? `${fmt(l.commits.perSecond)} (${fmt(l.commits.meanMs)} ms, ${fmt(l.commits.updatesPerCommit)})` : '–',
          cores(l.machineBusy),
          `${l.othersCpu.toFixed(2)} cores`,
        ]];
      }),
    ),
  );
  const verdicts = loads.map((label) => ({ label, ...verdict(of(label, 'bridgelog'), of(label, 'hocuspocus')) }));
  const target = table(
    ['load', 'Bridgelog other-node p99 (ms)', 'Hocuspocus other-node p99 (ms)', 'ratio', `≤ ${TARGET_RATIO}× and 100 % delivered`],
    ['---:', '---:', '---:', '---:', '---'],
    verdicts.map((v) => [v.label, fmt(of(v.label, 'bridgelog')?.otherNode.latency.p99), fmt(of(v.label, 'hocuspocus')?.otherNode.latency.p99), `${v.ratio.toFixed(2)}×`, v.met ? 'yes' : '**no**']),
  );

  const drills = table(
    ['server', 'killed after (s)', 'instance killed', 'acknowledged', 'missing 5 s after the kill', 'missing after the readers left', 'in PostgreSQL at the end', 'PostgreSQL writes by the kill'],
    ['---', '---:', '---', '---:', '---:', '---:', '---:', '---:'],
    r.drills.map((d) => [
      NAMES[d.server],
      d.killAfterS.toFixed(1),
      d.killed,
      String(d.acknowledged),
      d.lostAfterKill === 0 ? '0' : `**${d.lostAfterKill}** (${pct(d.lostAfterKill / d.acknowledged)})`,
      d.lostAtEnd === 0 ? '0' : `**${d.lostAtEnd}** (${pct(d.lostAtEnd / d.acknowledged)})`,
      String(d.storedAtEnd),
      `${d.writesAtKill} ${d.server === 'bridgelog' ? 'records' : 'stores'}`,
    ]),
  );
  const drill = r.drills[0];
  const drillIntro = drill
    ? `Loss drill: ${drill.writers} writers × ${drill.rate}/s through HAProxy (all on one instance), ${drill.readers} readers spread over the three instances' ports; ` +
      `at the time shown the writers' instance and the writers' process are SIGKILLed together (nothing is resent). ` +
      `"Acknowledged" counts the updates each writer had been told were saved before it died — Bridgelog: covered by a "persisted" (message 100) state vector, sent after the COMMIT; ` +
      `Hocuspocus: a SyncStatus (applied) received for it, what its provider counts \`unsyncedChanges\` down by (\`synced\` when none is left), sent once the instance has the update in memory. ` +
      `"Missing" are those not found in PostgreSQL — Bridgelog: every \`incident_updates\` row of the incident applied to a document; Hocuspocus: its stored document state — ` +
      `read 5 s after the kill and again once the readers had left and 5 s more.`
    : '';
  const drillsOf = (k: ClusterKind) => r.drills.filter((d) => d.server === k);
  const drillCount = drillsOf('bridgelog').length;
  const lost = (k: ClusterKind) => drillsOf(k).reduce((n, d) => n + Math.max(d.lostAfterKill, d.lostAtEnd), 0);
  const acknowledged = (k: ClusterKind) => drillsOf(k).reduce((n, d) => n + d.acknowledged, 0);
  const lostNothing = r.drills.filter((d) => d.server === 'bridgelog').every((d) => d.lostAtEnd === 0 && d.lostAfterKill === 0);
  const allMet = verdicts.every((v) => v.met);
  const summary =
    `Target (Bridgelog's cross-node p99 within ${TARGET_RATIO}× of Hocuspocus's, losing nothing acknowledged): ` +
    `${allMet && lostNothing && r.drills.length > 0 ? 'met' : '**missed**'} — latency ${verdicts.map((v) => `${v.ratio.toFixed(2)}× (${v.label})`).join(', ')}; ` +
    `of the updates acknowledged in ${drillCount} drill${drillCount === 1 ? '' : 's'} each, Bridgelog lost ${lost('bridgelog')} of ${acknowledged('bridgelog')}, ` +
    `Hocuspocus ${lost('hocuspocus')} of ${acknowledged('hocuspocus')}.`;
  return [
    intro,
    '',
    ...raw,
    '',
    "Where the time went (ms). Per update, the time to its first reader in a group is the path before that node's broadcast loop: " +
      "on the writer's node, receive, apply and (Bridgelog) the COMMIT; on another node also the hop through Redis and that node's own work. " +
      "Bridgelog's COMMIT round trip (the call of bl_append and its COMMIT, one per group of updates) is from the writers' node's /metrics: its mean, and the share over 5 and 10 ms.",
    '',
    ...path,
    '',
    "Where the work went (cores while the writers sent: the writers' instance / the two others; Bridgelog's COMMITs on the writers' node, from its /metrics):",
    '',
    ...work,
    '',
    ...target,
    '',
    drillIntro,
    '',
    ...drills,
    '',
    summary,
  ];
}
