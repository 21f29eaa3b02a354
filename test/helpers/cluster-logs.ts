/**
 * When a cluster test fails, what the nodes logged is what explains it (a CI run leaves nothing
 * else behind): print the end of each node's output after a failed test.
 */
import { afterEach } from 'vitest';
import type { LocalCluster } from '../../cluster/local-cluster.js';

export function printNodeLogsOnFailure(cluster: () => LocalCluster | undefined, chars = 6_000): void {
  afterEach((ctx) => {
    if (ctx.task.result?.state !== 'fail') return;
    for (const node of cluster()?.nodes ?? []) {
      const out = node.output();
      console.log(`----- ${node.name} (last ${Math.min(chars, out.length)} of ${out.length} characters of its output) -----\n${out.slice(-chars)}`);
    }
  });
}
