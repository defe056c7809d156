// A worker process of test/dist/collectives.test.ts: joins the group its environment (or a
// FileStore path) describes, runs one scenario, prints JSON results on stdout. `node --test` runs
// every file under test/ too: without a scenario and a distributed environment it does nothing.
import { writeSync } from 'node:fs';
import { allGatherRows, allReduceNumbers, broadcastJson } from '../../src/dist/collectives.js';
import { distEnv, type DistEnv } from '../../src/dist/env.js';
import { ProcessGroup, groupOptionsFromEnv } from '../../src/dist/group.js';
import { rankRange } from '../../src/dist/shard.js';
import * as T from '../../src/torch/index.js';

const scenario = process.argv[2];
const filePath = process.argv[3];
const e = distEnv();
if (scenario && e) await run(scenario, e);

async function run(scenario: string, e: DistEnv): Promise<void> {
  // test/device/cuda.test.ts runs the collectives on cuda:LOCAL_RANK over NCCL
  const cuda = process.env.TEST_CUDA === '1';
  if (cuda) T.setDevice(`cuda:${e.localRank}`);
  const backend = cuda ? 'nccl' : 'gloo';
  const group = filePath
    ? ProcessGroup.init({
        rank: e.rank,
        size: e.worldSize,
        store: { kind: 'file', path: filePath },
        backend,
        timeoutMs: e.timeoutMs,
        glooHostname: '127.0.0.1',
      })
    : ProcessGroup.init(groupOptionsFromEnv(e, backend));
  const r = group.rank;
  const out = (v: unknown) => writeSync(1, JSON.stringify(v) + '\n');

  if (scenario === 'collectives') {
    // one allReduce over a list of two tensors of different shapes
    const a = T.tensor([r + 1, 2 * (r + 1)]);
    const b = T.tensor([[10 * r], [1]]);
    group.allReduce([a, b], 'sum');
    const c = T.tensor([r + 1]);
    group.allReduce([c], 'avg');
    const m = T.tensor([r, -r]);
    group.allReduce([m], 'max');
    // broadcast from the last rank, into a parameter that requires grad
    const p = T.tensor([r, r, r]).requiresGrad_(true);
    group.broadcast([p], group.size - 1);
    const gathered = group.allGather(T.tensor([r * 100, r])).map((t) => t.toArray());
    group.barrier();
    const json = broadcastJson(group, r === 0 ? { hello: 'from 0', n: [1, 2] } : null);
    const numbers = Array.from(allReduceNumbers(group, [r, 0.5]));
    // 5 rows of 2 values split over the ranks, gathered back in order
    const mine = rankRange(5, r, group.size);
    const rows = Float32Array.from({ length: mine.count * 2 }, (_, i) => mine.from * 2 + i);
    const allRows = Array.from(allGatherRows(group, rows, 5, 2));
    out({ a: a.toArray(), b: b.toArray(), c: c.toArray(), m: m.toArray(), p: p.toArray(), gathered, json, numbers, allRows });
  } else if (scenario === 'die') {
    group.allReduce([T.tensor([1])]);
    if (r === 1) process.exit(7);
    try {
      group.allReduce([T.tensor([1])]);
      out({ error: null });
    } catch (err) {
      out({ error: (err as Error).message });
    }
  } else if (scenario === 'stall') {
    group.allReduce([T.tensor([1])]);
    if (r === 1) {
      // alive (its heartbeat goes on) but never joins the next collective
      await new Promise((resolve) => setTimeout(resolve, e.timeoutMs + 4000));
    } else {
      try {
        group.allReduce([T.tensor([1])]);
        out({ error: null });
      } catch (err) {
        out({ error: (err as Error).message });
      }
    }
  }
  group.destroy();
}
