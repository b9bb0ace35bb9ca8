/**
 * `npm run bench:node`: the figure a user feels, on the real two-node cluster of the cluster tests
 * (test/support/cluster.ts, docs/cluster.md). N pods (default 20) created at once on node1, each
 * with 0 and with 3 secondary macvlan networks on the test LAN, under each node CNI config in
 * rounds (none, multinet, multus; none, multinet, multus; ...; `--impls`), the config switched
 * between turns. Writes every
 * raw figure to bench/results/real-node-<date>.json (or --out) and prints the summary table.
 * docs/benchmarks.md ("Real node") explains the method and its limits.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { lanMacvlanNad } from '../../test/cluster/cluster-checks.ts';
import { startCluster } from '../../test/support/cluster.ts';
import { REPO_ROOT } from '../../test/support/control-plane.ts';
import { BENCH_NADS, burstLine, runRealNodeBurst, type BurstResult } from '../real-node/burst.ts';
import { NODE_CNIS, type NodeCniId } from '../real-node/node-cni.ts';
import { goalsTable, realNodeGoals, stageTable, summarize, summaryTable } from '../real-node/summary.ts';

const log = (s: string): void => void process.stderr.write(`${s}\n`);

const { values } = parseArgs({
  options: {
    pods: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '3' },
    networks: { type: 'string', default: '0,3' },
    impls: { type: 'string', default: 'none,multinet,multus' },
    out: { type: 'string' },
    'timeout-s': { type: 'string', default: '240' },
  },
});
const pods = Number(values.pods);
const rounds = Number(values.rounds);
const networkCounts = values.networks.split(',').map(Number);
const impls = values.impls.split(',') as NodeCniId[];
for (const i of impls)
  if (!(i in NODE_CNIS)) throw new Error(`unknown implementation ${i} (none, multinet, multus)`);
if (pods > 40) throw new Error('--pods: at most 40 (each bench NAD has 40 addresses)');
if (Math.max(...networkCounts) > BENCH_NADS.length)
  throw new Error(`--networks: at most ${BENCH_NADS.length}`);

const started = new Date();
const cluster = await startCluster({ onProgress: (l) => log(`== ${l}`) });
const results: BurstResult[] = [];
try {
  const node = cluster.nodes[0]!;
  // Ranges on the LAN (192.168.1.0/24) clear of the nodes' own addresses (.1, .11, .12).
  const nads = BENCH_NADS.map((n, i) =>
    lanMacvlanNad(n, `192.168.1.${20 + 40 * i}`, `192.168.1.${59 + 40 * i}`),
  );
  // deploy/crds comes with the install: the NADs need its CRD.
  await NODE_CNIS.multinet.activate(cluster, node);
  await cluster.kubectl(['apply', '-f', '-'], { input: nads.map((o) => JSON.stringify(o)).join('\n') });
  for (let round = 1; round <= rounds; round++) {
    for (const id of impls) {
      const impl = NODE_CNIS[id];
      log(`== round ${round}: ${impl.label}`);
      const daemonPid = await impl.activate(cluster, node);
      // No meta-plugin ignores the annotation: one burst per round is its baseline for every count.
      for (const networks of id === 'none' ? [0] : networkCounts) {
        const r = await runRealNodeBurst(cluster, {
          impl: id,
          round,
          networks,
          pods,
          node,
          daemonPid,
          timeoutMs: Number(values['timeout-s']) * 1000,
        });
        results.push(r);
        log(burstLine(r));
      }
    }
  }
} finally {
  await cluster.stop();
}

const summary = summarize(results);
const goals = realNodeGoals(summary);
const out = resolve(values.out ?? join(REPO_ROOT, 'bench/results'));
await mkdir(out, { recursive: true });
const file = join(out, `real-node-${started.toISOString().slice(0, 16).replace(':', '')}.json`);
await writeFile(
  file,
  `${JSON.stringify(
    {
      startedAt: started.toISOString(),
      machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, kernel: os.release() },
      options: { pods, rounds, networkCounts, impls },
      summary,
      goals,
      bursts: results,
    },
    null,
    1,
  )}\n`,
);
console.log(summaryTable(summary));
console.log(`\n${goalsTable(goals)}`);
const stages = stageTable(results);
if (stages) console.log(`\n${stages}`);
log(`raw figures: ${file}`);
