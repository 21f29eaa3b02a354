/**
 * Where a server's time went: the top functions by self time in a V8 CPU profile (from
 * `npm run bench -- --profile`), and the same time grouped by package. Given a server's profile
 * directory, it reads the busiest profile in it — the main thread's, not tsx's loader thread's.
 *
 *   node --import tsx bench/profile-summary.ts .bench/profiles/<run>/bridgelog-fanout-2000-1 [top]
 */
import fs from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [given, topArg] = process.argv.slice(2);
if (!given) throw new Error('usage: profile-summary.ts <file.cpuprofile | directory> [top]');
const top = Number(topArg ?? 25);
const file = fs.statSync(given).isDirectory()
  ? fs
      .readdirSync(given)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => path.join(given, f))
      .sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)[0]!
  : given;
const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;

const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));

/** "ws", "yjs", "node:internal", "bridgelog" … from a script URL. */
function packageOf(url: string): string {
  if (url === '') return '(native / V8)';
  const inModules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (inModules) return inModules[1]!;
  if (url.startsWith('node:')) return 'node (core)';
  return 'own code';
}

const byFunction = new Map<string, number>();
const byPackage = new Map<string, number>();
let total = 0;
let idle = 0;
for (const [id, us] of selfUs) {
  const { functionName, url, lineNumber } = nodes.get(id)!.callFrame;
  if (functionName === '(idle)') {
    idle += us;
    continue;
  }
  total += us;
  const where = url ? `${url.replace(/^file:\/\/.*?node_modules\//, '').replace(/^file:\/\/.*?\/(server|bench|shared)\//, '$1/')}:${lineNumber + 1}` : '';
  const key = `${functionName || '(anonymous)'} ${where}`.trim();
  byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  byPackage.set(packageOf(url), (byPackage.get(packageOf(url)) ?? 0) + us);
}

const ms = (us: number) => (us / 1000).toFixed(0).padStart(7);
const share = (us: number) => `${((us / total) * 100).toFixed(1).padStart(5)} %`;
console.log(`${file}: ${ms(total)} ms busy, ${ms(idle)} ms idle`);
console.log('\nself time by package');
for (const [name, us] of [...byPackage].sort((a, b) => b[1] - a[1])) console.log(`${ms(us)} ms ${share(us)}  ${name}`);
console.log(`\ntop ${top} functions by self time`);
for (const [name, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${ms(us)} ms ${share(us)}  ${name}`);
