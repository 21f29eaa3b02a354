/**
 * A load-generator process for cold joins: latecomers connect to a document that is already large
 * and ask for everything; each is timed from opening its socket to the full state (sync step 2)
 * having arrived.
 *
 *   orchestrator → config → result
 */
import type { RawSocket } from './raw-socket.js';
import { connect } from './client.js';
import { parent } from './ipc.js';
import { now, type Target } from './wire.js';

export interface LatecomersConfig {
  target: Target;
  /** Latecomers joining at once, per round. */
  concurrent: number;
  rounds: number;
  /** Before timing, join untimed until the state is at least this big (the seed has landed; JIT warm). */
  warmUpUntilBytes: number;
  /**
   * Pause after the warm-up and between rounds: longer than a server keeps anything a join left
   * behind (Bridgelog shares one encoding of the whole document among joiners for a second), so every
   * timed round is a cold join.
   */
  pauseMs: number;
}

export interface LatecomersResult {
  type: 'result';
  /** Per round, per latecomer: socket opened → full state arrived, ms. */
  ms: number[][];
  stateBytes: number;
}

const config = await parent.config<LatecomersConfig>();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function join(): Promise<{ ms: number; bytes: number; socket: RawSocket }> {
  const started = now();
  let ms = NaN;
  let bytes = 0;
  const { socket } = await connect(config.target, (data, kind, at) => {
    if (kind === 'state' && Number.isNaN(ms)) {
      ms = at - started;
      bytes = data.length;
    }
  });
  return { ms, bytes, socket };
}

const giveUpAt = now() + 60_000;
let stateBytes = 0;
while (stateBytes < config.warmUpUntilBytes) {
  if (now() > giveUpAt) throw new Error(`state stayed at ${stateBytes} bytes, expected ${config.warmUpUntilBytes}`);
  const warm = await join();
  warm.socket.terminate();
  stateBytes = warm.bytes;
  if (stateBytes < config.warmUpUntilBytes) await sleep(200);
}
if (config.warmUpUntilBytes > 0) await sleep(config.pauseMs);

const ms: number[][] = [];
for (let round = 0; round < config.rounds; round++) {
  const joined = await Promise.all(Array.from({ length: config.concurrent }, join));
  for (const j of joined) j.socket.terminate();
  ms.push(joined.map((j) => j.ms));
  stateBytes = Math.min(...joined.map((j) => j.bytes));
  if (round < config.rounds - 1) await sleep(config.pauseMs);
}
parent.post({ type: 'result', ms, stateBytes } satisfies LatecomersResult);
