/**
 * "Saved" means on disk: a server killed with SIGKILL mid-burst from several writers still has, after a
 * restart, every update it had acknowledged with message type 100; the writers converge afterwards.
 * `npm run test:chaos` runs the same drill for 50 cycles with 10 writers.
 */
import { describe, expect, it } from 'vitest';
import { crashDrill } from '../helpers/crash-drill.js';

describe('crash recovery', () => {
  it('keeps every acknowledged update through 3 SIGKILLs mid-burst from 4 writers', async () => {
    const result = await crashDrill({ writers: 4, cycles: 3 });
    expect(result.cycles).toBe(3);
    expect(result.lost).toBe(0);
    expect(result.acknowledgedChecked).toBeGreaterThan(3 * 4);
  });
});
