/** A flood of refused messages becomes a line per user per interval, each saying how many it stands for. */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { RefusalLog } from '../../server/collab/refusal-log.js';

describe('refusal log', () => {
  it('writes the first refusal of each user, then one line per interval with the count it stands for', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(JSON.parse(chunk.toString())), done()) });
    const log = pino({ level: 'info' }, sink);
    const refusals = new RefusalLog(200);
    const fields = (user: string) => ({ user, incident: 'i1', code: 4400, reason: 'malformed message' });

    for (let i = 0; i < 1000; i++) refusals.refused(log, 'u_mallory', fields('mallory'));
    refusals.refused(log, 'u_kim', fields('kim'));
    await new Promise((r) => setTimeout(r, 250));
    refusals.refused(log, 'u_mallory', fields('mallory'));
    await new Promise((r) => setImmediate(r));

    expect(lines.map((l) => [l.user, l.refusedSinceLastLine])).toEqual([
      ['mallory', undefined],
      ['kim', undefined],
      ['mallory', 999],
    ]);
    expect(lines.every((l) => l.msg === 'closing connection on a refused message' && l.code === 4400)).toBe(true);
  });
});
