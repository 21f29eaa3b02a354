/**
 * Capture analysis and upload on a ~1 GB capture, side by side with Wireshark's own tools in one run:
 * our analysis (a process of its own, built JavaScript as the server runs it), `capinfos`, and
 * `tshark -q -z io,stat,0.001`: MB/s from the page cache and peak RSS (GNU time's max resident set).
 * Then the same file uploaded over loopback to a Bridgelog server by curl — a client in a process of
 * its own that costs little CPU, so on two cores it does not take the server's — MB/s and the
 * server's RSS growth (its VmHWM, reset before each upload: no sampling, no /metrics traffic).
 * Part of `npm run bench`; alone: node --import tsx bench/capture.ts [sizeMB] [runs]
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { burstyTraffic, ethernetFrame, writePcap } from '../test/helpers/capture-writer.js';
import { startChildServer, type ChildServer } from '../test/helpers/child-server.js';
import { ADMIN, cpuShares, freePort, progress, quietMachine, sleep } from './lib.js';
import { captureSection } from './report.js';

export interface CaptureShape {
  sizeMB: number;
  /** Runs of our analysis, of capinfos and of the upload (tshark runs once: ~50 s per GB). */
  runs: number;
}

export interface ToolRun {
  seconds: number;
  rssMiB: number;
  /** Cores other processes used meanwhile (a shared machine). */
  othersCpu: number;
}

export interface UploadRun {
  seconds: number;
  /** The server's RSS before the upload and the most it reached during it, bytes. */
  rssBefore: number;
  rssPeak: number;
  /** CPU seconds the server process used (all its threads). */
  serverCpu: number;
  othersCpu: number;
}

export interface CaptureResult {
  shape: CaptureShape;
  bytes: number;
  packets: number;
  tools: { bridgelog: ToolRun[]; capinfos: ToolRun[]; tshark: ToolRun[] };
  /**
   * A capture spanning an hour (the 1 ms IO graph's longest: 3.6 million buckets): what memory an
   * analysis needs grows with a capture's span, not its size.
   */
  hour: { bytes: number; packets: number; buckets: number; tools: { bridgelog: ToolRun[]; capinfos: ToolRun[] } };
  upload: {
    client: string;
    /** The idle server's RSS, and after a first small upload (which starts the hashing worker), bytes. */
    rssCold: number;
    rssWarm: number;
    runs: UploadRun[];
  };
}

/**
 * Bursty traffic, written in slices (never all in memory), then read once into the page cache. With
 * `spanS`, quiet gaps between the slices stretch it to that many seconds from first packet to last.
 */
export function writeCapture(file: string, sizeMB: number, spanS?: number): void {
  const fd = fs.openSync(file, 'w');
  fs.writeSync(fd, writePcap([], { nanos: true, little: true }));
  const begin = 1_772_604_750_000_000_000n;
  let start = begin;
  let slices = 0;
  for (let i = 0; fs.fstatSync(fd).size < sizeMB * 1e6; i++) {
    const slice = burstyTraffic(start, 20_000, i + 1);
    const bytes = writePcap(slice, { nanos: true, little: true }).subarray(24);
    fs.writeSync(fd, bytes);
    slices ||= Math.ceil((sizeMB * 1e6) / bytes.length);
    // The last slice starts where the span ends, less its own length.
    const sliceNs = slice.at(-1)!.ns - start;
    start = spanS ? begin + ((BigInt(spanS) * 1_000_000_000n - sliceNs) * BigInt(i + 1)) / BigInt(Math.max(1, slices - 1)) : slice.at(-1)!.ns;
  }
  fs.closeSync(fd);
  execFileSync('cat', [file], { stdio: ['ignore', 'ignore', 'ignore'] });
}

/** Runs a command under GNU time on a quiet machine: wall seconds, peak RSS and what others used. */
async function measure(cmd: string, args: string[]): Promise<{ run: ToolRun; out: string }> {
  await quietMachine();
  const others = cpuShares();
  const t = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', 'MAXRSS %M', cmd, ...args], { encoding: 'utf8', maxBuffer: 1 << 30 });
  const seconds = (performance.now() - t) / 1000;
  if (r.status !== 0) throw new Error(`${cmd} failed (${r.status}): ${r.stderr.slice(-500)}`);
  return { run: { seconds, rssMiB: Number(/MAXRSS (\d+)/.exec(r.stderr)?.[1] ?? NaN) / 1024, othersCpu: others().othersCores }, out: r.stdout };
}

/** The analysis is measured as the server runs it, built: dist/ is (re)built when older than the sources. */
function builtAnalysis(): string {
  const built = path.resolve('dist/server/capture/capture-analysis.js');
  const sources = fs.readdirSync('server/capture').map((f) => fs.statSync(path.join('server/capture', f)).mtimeMs);
  if (!fs.existsSync(built) || fs.statSync(built).mtimeMs < Math.max(...sources)) {
    progress('capture: building dist/ (the analysis is measured as built JavaScript)');
    spawnSync(process.execPath, [path.resolve('node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { stdio: 'ignore' });
    if (!fs.existsSync(built) || fs.statSync(built).mtimeMs < Math.max(...sources)) throw new Error('could not build dist/: run npm run build');
  }
  return built;
}

const status = (pid: number, field: 'VmRSS' | 'VmHWM') => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) * 1024;
const cpuSeconds = (pid: number) => {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
};

function curlUpload(url: string, file: string): Promise<{ id: string; size: number }> {
  return new Promise((resolve, reject) => {
    const args = ['-sS', '--fail-with-body', '-H', `authorization: Bearer ${ADMIN}`, '-H', 'Expect:', '-F', `file=@${file};filename=${path.basename(file)}`, url];
    const curl = spawn('curl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    curl.stdout.on('data', (c: Buffer) => (out += c));
    curl.stderr.on('data', (c: Buffer) => (out += c));
    curl.on('error', reject);
    curl.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as { id: string; size: number }) : reject(new Error(`curl exited ${code}: ${out}`))));
  });
}

async function uploads(file: string, dataDir: string, runs: number): Promise<CaptureResult['upload']> {
  const server: ChildServer = await startChildServer({
    PORT: String(await freePort()), DATA_DIR: dataDir, BRIDGELOG_BOOTSTRAP_TOKEN: ADMIN, UPLOAD_LIMIT_CAPTURE_MB: '4096', LOG_LEVEL: 'warn',
  });
  const pid = server.process.pid!;
  const auth = { authorization: `Bearer ${ADMIN}` };
  try {
    const incident = (await (await fetch(`${server.url}/api/incidents`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{"title":"upload bench"}' })).json()) as { id: string };
    const url = `${server.url}/api/incidents/${incident.id}/attachments`;
    const analysisDone = async (id: string) => {
      for (;;) {
        // A poll may meet a keep-alive connection the server is closing just then: ask again.
        const answer = await fetch(`${server.url}/api/attachments/${id}/analysis?summary=1`, { headers: auth }).then((r) => r.json() as Promise<{ status: string }>, () => undefined);
        if (answer?.status === 'done' || answer?.status === 'failed') return;
        await sleep(200);
      }
    };
    await sleep(1000);
    const rssCold = status(pid, 'VmRSS');
    const warmUp = path.join(path.dirname(file), 'warm-up.txt');
    fs.writeFileSync(warmUp, 'a first, small upload\n');
    await curlUpload(url, warmUp);
    await sleep(500);
    const rssWarm = status(pid, 'VmRSS');
    const result: UploadRun[] = [];
    for (let i = 0; i < runs; i++) {
      // A packet more each run: new content, as a new capture is (a second copy of a stored one is
      // recognized by its hash and dropped; that is not what is measured).
      fs.appendFileSync(file, writePcap([{ ns: 1_900_000_000_000_000_000n + BigInt(i), frame: ethernetFrame(64) }], { nanos: true, little: true }).subarray(24));
      execFileSync('cat', [file], { stdio: ['ignore', 'ignore', 'ignore'] }); // in the page cache, whole
      await quietMachine();
      const others = cpuShares();
      const rssBefore = status(pid, 'VmRSS');
      fs.writeFileSync(`/proc/${pid}/clear_refs`, '5'); // VmHWM := VmRSS
      const cpu0 = cpuSeconds(pid);
      const t = performance.now();
      const uploaded = await curlUpload(url, file);
      const seconds = (performance.now() - t) / 1000;
      result.push({ seconds, rssBefore, rssPeak: status(pid, 'VmHWM'), serverCpu: cpuSeconds(pid) - cpu0, othersCpu: others().othersCores });
      progress(`capture: upload ${i + 1}/${runs}: ${(uploaded.size / 1e6 / seconds).toFixed(0)} MB/s`);
      // Its analysis (the first time) runs in the server: not while the next upload is timed.
      await analysisDone(uploaded.id);
    }
    const client = execFileSync('curl', ['--version'], { encoding: 'utf8' }).split(' ').slice(0, 2).join(' ');
    return { client, rssCold, rssWarm, runs: result };
  } finally {
    server.process.kill('SIGTERM');
    await server.exited;
  }
}

export async function captureBench(shape: CaptureShape): Promise<CaptureResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bridgelog-capture-bench-'));
  try {
    const file = path.join(dir, 'big.pcap');
    progress(`capture: writing a ${shape.sizeMB} MB capture`);
    writeCapture(file, shape.sizeMB);
    const analyzer = path.join(dir, 'analyze.mjs');
    fs.writeFileSync(analyzer, `
import { analyzeCapture } from ${JSON.stringify(pathToFileURL(builtAnalysis()).href)};
const a = await analyzeCapture(process.argv[2]);
console.log(JSON.stringify({ packets: a.summary.packets, buckets: a.summary.ioGraph.buckets }));
`);
    const tools: CaptureResult['tools'] = { bridgelog: [], capinfos: [], tshark: [] };
    let packets = 0;
    for (let i = 0; i < shape.runs; i++) {
      progress(`capture: analysis ${i + 1}/${shape.runs}, ours and capinfos`);
      const ours = await measure(process.execPath, [analyzer, file]);
      packets = (JSON.parse(ours.out) as { packets: number }).packets;
      tools.bridgelog.push(ours.run);
      tools.capinfos.push((await measure('capinfos', ['-c', '-d', file])).run);
    }
    progress('capture: tshark -z io,stat,0.001 (about 50 s per GB)');
    tools.tshark.push((await measure('tshark', ['-q', '-r', file, '-z', 'io,stat,0.001'])).run);
    const upload = await uploads(file, path.join(dir, 'data'), shape.runs);

    const hourFile = path.join(dir, 'hour.pcap');
    progress('capture: a 100 MB capture spanning an hour');
    writeCapture(hourFile, 100, 3600);
    const hour: CaptureResult['hour'] = { bytes: fs.statSync(hourFile).size, packets: 0, buckets: 0, tools: { bridgelog: [], capinfos: [] } };
    for (let i = 0; i < shape.runs; i++) {
      const ours = await measure(process.execPath, [analyzer, hourFile]);
      Object.assign(hour, JSON.parse(ours.out) as { packets: number; buckets: number });
      hour.tools.bridgelog.push(ours.run);
      hour.tools.capinfos.push((await measure('capinfos', ['-c', '-d', hourFile])).run);
    }
    return { shape, bytes: fs.statSync(file).size, packets, tools, upload, hour };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const result = await captureBench({ sizeMB: Number(process.argv[2] ?? 1024), runs: Number(process.argv[3] ?? 3) });
  console.log(captureSection(result).join('\n'));
  process.exit(0);
}
