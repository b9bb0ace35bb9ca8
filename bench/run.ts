/**
 * `npm run bench` (full) and `npm run bench -- --quick` (smoke): multinet (thin, thick) beside
 * Multus (thin, thick) and a no-meta-plugin baseline, one after the other in one run, on one
 * control plane, one node namespace, the same NADs and plugins. Writes results/<date>.json with
 * every raw figure and regenerates the report from it. docs/benchmarks.md explains the method.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { REPO_ROOT } from '../test/support/control-plane.ts';
import type { BenchContext } from './bench-context.ts';
import { CleanupStack } from './cleanup-stack.ts';
import { CLEAN_ENV } from './exec-cni.ts';
import { IMPLEMENTATIONS } from './implementations/index.ts';
import { startLoadSampler } from './load-sampler.ts';
import type { Implementation } from './implementations/implementation.ts';
import { parseBenchOptions, type BenchOptions } from './options.ts';
import { writeReport } from './report/write-report.ts';
import type { BenchResults } from './results.ts';
import { runApiCost } from './scenarios/api-cost.ts';
import { runBurst } from './scenarios/burst.ts';
import { runMemory } from './scenarios/memory.ts';
import { runSequential } from './scenarios/sequential.ts';
import { runShimStartup } from './scenarios/shim-startup.ts';
import { BenchScene } from './scene.ts';
import { BUN_VERSION } from './shim-builds.ts';

const log = (s: string): void => void process.stderr.write(s);

function sh(cmd: string, args: string[], opts: { cwd?: string } = {}): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts }).trim();
  } catch {
    return 'unknown';
  }
}

function versions(): BenchResults['versions'] {
  const goMod = readFileSync(join(REPO_ROOT, 'tools/multus/go.mod'), 'utf8');
  const multus = /multus-cni\.v4 (v\S+)/.exec(goMod)?.[1] ?? 'unknown';
  const dirty = sh('git', ['status', '--porcelain', '--', 'src'], { cwd: REPO_ROOT }) ? '+dirty' : '';
  return {
    multinet: `${sh('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT })}${dirty}`,
    multus,
    kubeApiserver: sh(join(REPO_ROOT, 'tools/bin/kube-apiserver'), ['--version']),
    cniPlugins: sh('dpkg-query', ['-W', '-f', '${Version}', 'containernetworking-plugins']),
    bun: BUN_VERSION,
  };
}

function machine(): BenchResults['machine'] {
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryBytes: os.totalmem(),
    kernel: os.release(),
    node: process.version,
    go: sh('go', ['version']),
  };
}

function build(): void {
  log(
    'building multinet (npm run build, build:thin-bin, build:daemon, build:shim-bin) and Multus (tools/build.sh)...\n',
  );
  // The -bin scripts build the bundles too: both modes run the executables that ship.
  for (const script of ['build', 'build:thin-bin', 'build:daemon', 'build:shim-bin'])
    execFileSync('npm', ['run', '--silent', script], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  execFileSync(join(REPO_ROOT, 'tools/build.sh'), [], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/** Which implementations can start here (a missing build is reported, not fatal). */
async function probe(
  impls: readonly Implementation[],
  ctx: BenchContext,
): Promise<BenchResults['implementations']> {
  const out: BenchResults['implementations'] = [];
  for (const impl of impls) {
    try {
      const r = await impl.start(ctx.scene, { logDir: ctx.logDir });
      await r.stop();
      out.push({ id: impl.id, label: impl.label, available: true });
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      log(`  ${impl.id}: unavailable: ${why}\n`);
      out.push({ id: impl.id, label: impl.label, available: false, why });
    }
  }
  return out;
}

async function runBench(opts: BenchOptions): Promise<BenchResults> {
  const cleanup = new CleanupStack();
  const removeHandlers = cleanup.installSignalHandlers();
  const startedAt = new Date();
  const durations: Record<string, number> = {};
  const loads: Record<string, [number, number]> = {};
  const peaks: Record<string, number> = {};
  const timed = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    log(`== ${name}\n`);
    const t0 = performance.now();
    const load = startLoadSampler();
    try {
      return await fn();
    } finally {
      const span = load.stop();
      peaks[name] = span.peak;
      durations[name] = Math.round(performance.now() - t0);
      // Other work on the machine shows here; the report prints it beside the figures.
      loads[name] = [span.start, span.end];
    }
  };
  try {
    const s = opts.sizes;
    const scene = await timed('scene', () =>
      BenchScene.create(cleanup, {
        podNamespaces: 3 + s.burstPods,
        maxNetworks: Math.max(...s.networkCounts, ...s.parallelCounts, s.burstNetworks),
        log,
      }),
    );
    const ctx: BenchContext = {
      scene,
      quick: opts.quick,
      logDir: await scene.tempDir('logs'),
      implementations: IMPLEMENTATIONS,
      log,
    };
    const implementations = await timed('probe', () => probe(IMPLEMENTATIONS, ctx));
    ctx.implementations = IMPLEMENTATIONS.filter(
      (i) => implementations.find((x) => x.id === i.id)?.available,
    );
    const want = (id: string) => opts.scenarios.includes(id as never);
    const results: BenchResults = {
      schema: 1,
      startedAt: startedAt.toISOString(),
      finishedAt: '',
      quick: opts.quick,
      machine: machine(),
      versions: versions(),
      environment: { cleanEnv: Object.keys(CLEAN_ENV), nodeExtraCaCertsPassed: false },
      implementations,
      sequential: { iterations: s.iterations, networkCounts: s.networkCounts, runs: {} },
      sequentialVariants: {},
      parallel: { iterations: s.parallelIterations, networkCounts: s.parallelCounts, runs: {} },
      burst: {},
      api: {},
      memory: {},
      shim: { iterations: s.shimIterations, candidates: [] },
      durationsMs: durations,
      loadAverage: loads,
      loadPeak: peaks,
      rounds: s.rounds,
      stages: { implementation: 'multinet-thick', byCount: {} },
    };
    if (want('sequential'))
      results.sequential.runs = await timed('1. sequential ADD/DEL', () =>
        runSequential(ctx, {
          iterations: s.iterations,
          rounds: s.rounds,
          networkCounts: s.networkCounts,
          gcDel: 3,
          ...(results.stages ? { stages: results.stages } : {}),
        }),
      );
    if (want('parallel'))
      results.parallel.runs = await timed('6. parallelAttach (multinet extension)', () =>
        runSequential(ctx, {
          iterations: s.parallelIterations,
          rounds: s.rounds,
          networkCounts: s.parallelCounts,
          start: { parallelAttach: true },
          variant: 'parallelAttach',
          only: (i) => i.family === 'multinet',
        }),
      );
    if (want('sequential') && ctx.implementations.some((i) => i.id === 'multinet-thick'))
      // Where thick overhead goes: the same run without one Event write per attachment.
      results.sequentialVariants['multinet-thick (events: warnings)'] = {
        implementation: 'multinet-thick',
        variant: 'events: warnings',
        runs:
          (
            await timed('1b. sequential, multinet thick with events: warnings', () =>
              runSequential(ctx, {
                iterations: s.iterations,
                rounds: s.rounds,
                networkCounts: s.networkCounts,
                start: { events: 'warnings' },
                variant: 'events: warnings',
                only: (i) => i.id === 'multinet-thick',
              }),
            )
          )['multinet-thick'] ?? {},
      };
    if (want('burst'))
      results.burst = await timed('2. burst', () =>
        runBurst(ctx, { pods: s.burstPods, networksPerPod: s.burstNetworks, rounds: s.burstRounds }),
      );
    if (want('api'))
      results.api = await timed('3. API requests', () =>
        runApiCost(ctx, { warmRounds: s.apiWarmRounds, networksPerPod: 3 }),
      );
    if (want('memory'))
      results.memory = await timed('4. daemon memory', () =>
        runMemory(ctx, { nads: s.memoryNads, pods: s.memoryPods, settleMs: s.memorySettleMs }),
      );
    if (want('shim'))
      results.shim = await timed('5. shim exec-to-exit', () =>
        runShimStartup(ctx, { iterations: s.shimIterations }),
      );
    results.finishedAt = new Date().toISOString();
    return results;
  } finally {
    log('== cleanup\n');
    await cleanup.run();
    removeHandlers();
  }
}

async function main(): Promise<number> {
  let opts: BenchOptions;
  try {
    opts = parseBenchOptions(process.argv.slice(2), REPO_ROOT);
  } catch (err) {
    log(`${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  if (opts.reportFrom) {
    const results = JSON.parse(await readFile(opts.reportFrom, 'utf8')) as BenchResults;
    await writeReport(results, opts.reportFrom, opts.reportFile);
    log(`report: ${opts.reportFile}\n`);
    return 0;
  }
  if (process.getuid?.() !== 0) {
    log('npm run bench needs root (network namespaces, nsenter)\n');
    return 1;
  }
  if (opts.build) build();
  const t0 = performance.now();
  const results = await runBench(opts);
  await mkdir(opts.outDir, { recursive: true });
  const date = results.startedAt.slice(0, 10);
  const file = resolve(opts.outDir, `${date}${opts.quick ? '-quick' : ''}.json`);
  await writeFile(file, `${JSON.stringify(results, null, 1)}\n`);
  await writeReport(results, file, opts.reportFile);
  log(
    `results: ${file}\nreport: ${opts.reportFile}\ntotal ${((performance.now() - t0) / 1000).toFixed(0)} s\n`,
  );
  return 0;
}

// If the event loop drains while main() is still pending (a wait that can never end), Node would
// exit 0 with no results written: say so and fail instead.
let settled = false;
process.on('exit', () => {
  if (settled || process.exitCode) return;
  log('bench: stopped before it finished (an awaited step can never settle); no results written\n');
  process.exitCode = 1;
});
main().then(
  (code) => {
    settled = true;
    process.exitCode = code;
  },
  (err: unknown) => {
    settled = true;
    log(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
