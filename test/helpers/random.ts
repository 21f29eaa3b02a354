/** mulberry32: a small seeded PRNG, so a failing random run can be replayed with its seed. */
export function seededRandom(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed for this run: CHAOS_SEED if given, else a fresh one (printed, so it can be replayed). */
export function chaosSeed(name: string): number {
  const seed = process.env.CHAOS_SEED ? Number(process.env.CHAOS_SEED) : Math.floor(Math.random() * 2 ** 31);
  console.log(`${name}: seed ${seed} (replay with CHAOS_SEED=${seed})`);
  return seed;
}
