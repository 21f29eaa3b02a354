/** 50 SIGKILLs at random moments under 10 concurrent writers: nothing acknowledged is ever lost. */
import { describe, expect, it } from 'vitest';
import { crashDrill } from '../helpers/crash-drill.js';
import { chaosSeed, seededRandom } from '../helpers/random.js';

describe('crash chaos', () => {
  it('loses no acknowledged update in 50 crash cycles with 10 writers', async () => {
    const result = await crashDrill({ writers: 10, cycles: 50, random: seededRandom(chaosSeed('crash')) });
    console.log(`crash chaos: ${JSON.stringify(result)}`);
    expect(result).toMatchObject({ cycles: 50, lost: 0 });
    expect(result.acknowledgedChecked).toBeGreaterThan(50 * 10);
  });
});
