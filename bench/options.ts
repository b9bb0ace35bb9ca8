import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

export type ScenarioId = 'sequential' | 'parallel' | 'burst' | 'api' | 'memory' | 'shim';
export const SCENARIOS: readonly ScenarioId[] = ['sequential', 'parallel', 'burst', 'api', 'memory', 'shim'];

export interface BenchOptions {
  quick: boolean;
  /** Directory for results/<date>.json. */
  outDir: string;
  /** The report (its charts go to charts/ beside it). */
  reportFile: string;
  build: boolean;
  scenarios: ScenarioId[];
  /** Only regenerate the report from this results file. */
  reportFrom: string | undefined;
  sizes: {
    iterations: number;
    /** Scenario 1 in rounds, implementations interleaved (A B C D, A B C D, ...). */
    rounds: number;
    networkCounts: number[];
    parallelCounts: number[];
    parallelIterations: number;
    burstPods: number;
    burstNetworks: number;
    /** Bursts per implementation, interleaved like scenario 1's rounds. */
    burstRounds: number;
    apiWarmRounds: number;
    memoryNads: number;
    memoryPods: number;
    memorySettleMs: number;
    shimIterations: number;
  };
}

export const USAGE = `usage: npm run bench -- [--quick] [--out DIR] [--report FILE] [--no-build]
                        [--only sequential,parallel,burst,api,memory,shim] [--iterations N]
                        [--rounds N] [--burst-pods N]
       npm run bench -- --report-from bench/results/DATE.json   (regenerate the report only)
`;

export function parseBenchOptions(argv: string[], repoRoot: string): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      out: { type: 'string' },
      report: { type: 'string' },
      'no-build': { type: 'boolean', default: false },
      only: { type: 'string' },
      iterations: { type: 'string' },
      rounds: { type: 'string' },
      'burst-pods': { type: 'string' },
      'report-from': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    allowPositionals: false,
  });
  if (values.help) throw new Error(USAGE);
  const quick = values.quick === true;
  // A quick run is a smoke test: it must not overwrite the committed full results and report.
  const defaultDir = resolve(repoRoot, quick ? '.tmp/bench-quick' : 'bench');
  const scenarios = values.only ? (values.only.split(',') as ScenarioId[]) : [...SCENARIOS];
  for (const s of scenarios) if (!SCENARIOS.includes(s)) throw new Error(`unknown scenario "${s}"\n${USAGE}`);
  const iterations = values.iterations ? Number(values.iterations) : quick ? 3 : 100;
  if (!Number.isInteger(iterations) || iterations < 1)
    throw new Error(`--iterations must be a positive integer`);
  const rounds = values.rounds ? Number(values.rounds) : 3;
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds must be a positive integer`);
  const burstPods = values['burst-pods'] ? Number(values['burst-pods']) : quick ? 10 : 100;
  if (!Number.isInteger(burstPods) || burstPods < 1)
    throw new Error(`--burst-pods must be a positive integer`);
  return {
    quick,
    outDir: resolve(values.out ?? `${defaultDir}/results`),
    reportFile: resolve(values.report ?? `${defaultDir}/REPORT.md`),
    build: !values['no-build'],
    scenarios,
    reportFrom: values['report-from'],
    sizes: {
      iterations,
      rounds: Math.min(rounds, iterations),
      networkCounts: [0, 1, 3, 8],
      parallelCounts: [3, 8],
      parallelIterations: quick ? 2 : iterations,
      burstPods,
      burstNetworks: 3,
      burstRounds: rounds,
      apiWarmRounds: quick ? 2 : 5,
      memoryNads: quick ? 100 : 1000,
      memoryPods: quick ? 11 : 110,
      memorySettleMs: quick ? 1500 : 5000,
      shimIterations: quick ? 5 : 100,
    },
  };
}
