/**
 * `npm run bench:ab -- --base DIR [--iterations N] [--rounds R] [--networks 0,3,8]
 *  [--node-flags '...'] [--base-node-flags '...'] [--runtime node|bun] [--base-runtime node|bun]`
 *
 * multinet thick of this checkout (dist/) against multinet thick of another build (DIR/dist/:
 * `git worktree add /tmp/base <commit> && cd /tmp/base && npm ci && npm run build:daemon &&
 * npm run build:shim`), both daemons up for the whole run on the same scene (API server, node
 * namespace, plugins), and called in interleaved rounds: A B, B A, A B... so that what the machine
 * does meanwhile hits both alike. Per side and network count: the CNI call's exec-to-exit time
 * (median of round medians, and the spread of round medians) and the daemon's own CPU time per
 * ADD+DEL pair (utime+stime of the daemon process from /proc, its children excluded: the
 * delegates are the same binaries on both sides). The point is the ratio, measured in one run.
 * Each side's daemon runs with deploy/'s node flags unless --node-flags / --base-node-flags say
 * otherwise (`--base . --base-node-flags='...'`, with `=`, then compares V8 settings of one build). Each side runs its dist's shim
 * executable when built, else its bundle under node. --runtime bun (--base-runtime bun) runs that
 * side's daemon in its dist/multinet-bin (the thin plugin's Bun executable holds the daemon too).
 * Results go to .tmp/bench-ab/<date>.json; nothing tracked is written.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../test/support/control-plane.ts';
import { invocation, nextContainerId, warmUp, type BenchContext } from './bench-context.ts';
import { CleanupStack } from './cleanup-stack.ts';
import type { PodRef } from './exec-cni.ts';
import { DAEMON_NODE_FLAGS, multinetThickFrom } from './implementations/multinet.ts';
import type { RunningImplementation } from './implementations/implementation.ts';
import { startLoadSampler } from './load-sampler.ts';
import { statusBytes } from './process-memory.ts';
import { BenchScene } from './scene.ts';
import { median, round2 } from './stats.ts';

const USAGE =
  "usage: npm run bench:ab -- --base DIR [--iterations N] [--rounds R] [--networks 0,3,8] [--node-flags '...'] [--base-node-flags '...'] [--runtime node|bun] [--base-runtime node|bun]\n";

/** utime + stime of one process, in ms (clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

interface SideSamples {
  add: number[][];
  del: number[][];
  cpuPerPair: number[];
  errors: string[];
}

const spread = (rounds: number[][]): string => {
  const m = rounds.filter((r) => r.length > 0).map((r) => median(r));
  return m.length ? `${Math.min(...m).toFixed(1)}–${Math.max(...m).toFixed(1)}` : 'n/a';
};
const medianOfRounds = (rounds: number[][]): number =>
  median(rounds.filter((r) => r.length > 0).map((r) => median(r)));

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      base: { type: 'string' },
      iterations: { type: 'string', default: '30' },
      rounds: { type: 'string', default: '3' },
      networks: { type: 'string', default: '0,3,8' },
      'node-flags': { type: 'string' },
      'base-node-flags': { type: 'string' },
      runtime: { type: 'string', default: 'node' },
      'base-runtime': { type: 'string', default: 'node' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || !values.base) {
    process.stderr.write(USAGE);
    process.exit(values.help ? 0 : 2);
  }
  const iterations = Number(values.iterations);
  const rounds = Math.max(1, Number(values.rounds));
  const counts = values.networks!.split(',').map(Number);
  const perRound = Math.max(1, Math.floor(iterations / rounds));
  const log = (s: string) => process.stderr.write(s);
  // Node flags per side (default deploy/'s), so that one build can be measured against itself
  // with other V8 settings: --base . --base-node-flags '--max-semi-space-size=16'.
  const flags = (s: string | undefined) =>
    s === undefined ? DAEMON_NODE_FLAGS : s.split(' ').filter(Boolean);
  const newFlags = flags(values['node-flags']);
  const baseFlags = flags(values['base-node-flags']);
  const runtime = (s: string | undefined): 'node' | 'bun' => {
    if (s !== 'node' && s !== 'bun') throw new Error(`--runtime: node or bun, not ${s}`);
    return s;
  };
  const newRuntime = runtime(values.runtime);
  const baseRuntime = runtime(values['base-runtime']);
  const describe = (r: 'node' | 'bun', f: readonly string[]) =>
    r === 'bun' ? 'bun executable' : `node ${f.join(' ')}`;
  const sides = [
    {
      name: `this checkout (${describe(newRuntime, newFlags)})`,
      impl: multinetThickFrom(
        join(REPO_ROOT, 'dist'),
        'multinet-thick',
        'new',
        'ab-new',
        19491,
        newFlags,
        newRuntime,
      ),
    },
    {
      name: `base (${resolve(values.base)}, ${describe(baseRuntime, baseFlags)})`,
      impl: multinetThickFrom(
        join(resolve(values.base), 'dist'),
        'multinet-thick',
        'base',
        'ab-base',
        19591,
        baseFlags,
        baseRuntime,
      ),
    },
  ];

  const cleanup = new CleanupStack();
  const removeHandlers = cleanup.installSignalHandlers();
  const loads: number[] = [];
  try {
    const scene = await BenchScene.create(cleanup, {
      podNamespaces: 3,
      maxNetworks: Math.max(...counts, 3),
      log,
    });
    const ctx: BenchContext = {
      scene,
      quick: false,
      logDir: await scene.tempDir('logs'),
      implementations: [],
      log,
    };
    const running: RunningImplementation[] = [];
    for (const side of sides) {
      const r = await side.impl.start(scene, { logDir: ctx.logDir });
      cleanup.push(`${side.name} daemon`, () => r.stop());
      running.push(r);
      await warmUp(ctx, r);
    }
    const samples = sides.map(() => new Map<number, SideSamples>());
    const pods = new Map<string, PodRef[]>();
    for (const [i] of sides.entries())
      for (const n of counts) {
        samples[i]!.set(n, { add: [], del: [], cpuPerPair: [], errors: [] });
        pods.set(`${i} ${n}`, await scene.createPods(`ab${i}-${n}`, scene.networks(n), perRound * rounds));
      }
    const netns = scene.pods[1]!.path;
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? [0, 1] : [1, 0];
      for (const n of counts)
        for (const i of order) {
          const r = running[i]!;
          const s = samples[i]!.get(n)!;
          const batch = pods.get(`${i} ${n}`)!.slice(round * perRound, (round + 1) * perRound);
          const load = startLoadSampler(1_000);
          const adds: number[] = [];
          const dels: number[] = [];
          const cpu0 = cpuMs(r.daemonPid!);
          for (const pod of batch) {
            const cid = nextContainerId(`ab${i}-${n}`);
            const add = await r.call(invocation('ADD', cid, netns, pod, scene.networks(n)));
            const del = await r.call(invocation('DEL', cid, netns, pod, scene.networks(n)));
            if (add.ok) adds.push(round2(add.ms));
            else s.errors.push(`ADD: ${add.error}`);
            if (del.ok) dels.push(round2(del.ms));
            else s.errors.push(`DEL: ${del.error}`);
          }
          s.cpuPerPair.push(round2((cpuMs(r.daemonPid!) - cpu0) / batch.length));
          s.add.push(adds);
          s.del.push(dels);
          loads.push(load.stop().peak);
        }
      log(`  round ${round + 1}/${rounds} done\n`);
    }
    await scene.deletePods([...pods.values()].flat());
    const memory = sides.map((side, i) => {
      const mib = (key: 'VmRSS' | 'VmHWM') =>
        ((statusBytes(running[i]!.daemonPid!, key) ?? NaN) / 2 ** 20).toFixed(1);
      return `${side.name}: daemon RSS ${mib('VmRSS')} MiB at the end, peak ${mib('VmHWM')} MiB`;
    });

    const rows = [
      '| networks | side | ADD median (ms) | ADD spread | DEL median (ms) | DEL spread | daemon CPU per ADD+DEL (ms) | errors |',
      '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ];
    const ratios: string[] = [];
    for (const n of counts) {
      for (const [i, side] of sides.entries()) {
        const s = samples[i]!.get(n)!;
        rows.push(
          `| ${n} | ${side.name} | ${medianOfRounds(s.add).toFixed(1)} | ${spread(s.add)} | ${medianOfRounds(s.del).toFixed(1)} | ${spread(s.del)} | ${median(s.cpuPerPair).toFixed(1)} (rounds ${s.cpuPerPair.join(', ')}) | ${s.errors.length} |`,
        );
      }
      const [a, b] = [samples[0]!.get(n)!, samples[1]!.get(n)!];
      ratios.push(
        `n=${n}: ADD ${(medianOfRounds(a.add) / medianOfRounds(b.add)).toFixed(2)}, DEL ${(medianOfRounds(a.del) / medianOfRounds(b.del)).toFixed(2)}, daemon CPU ${(median(a.cpuPerPair) / median(b.cpuPerPair)).toFixed(2)}`,
      );
    }
    const peak = Math.max(...loads);
    const report = [
      `multinet thick A/B, ${rounds} rounds × ${perRound} ADD+DEL per side and network count, interleaved`,
      `load average peak ${peak.toFixed(1)} on ${cpus().length} cores${peak > cpus().length ? ' ⚠ above the core count: figures are noisy' : ''}`,
      '',
      ...rows,
      '',
      `this checkout / base: ${ratios.join('; ')}`,
      '',
      ...memory,
      '',
    ].join('\n');
    process.stdout.write(report);
    const outDir = join(REPO_ROOT, '.tmp/bench-ab');
    mkdirSync(outDir, { recursive: true });
    const file = join(outDir, `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(
      file,
      JSON.stringify(
        {
          base: resolve(values.base),
          rounds,
          perRound,
          counts,
          loadPeak: peak,
          loadAtEnd: loadavg()[0],
          samples: samples.map((m) => Object.fromEntries(m)),
        },
        null,
        1,
      ),
    );
    log(`results: ${file}\n`);
  } finally {
    await cleanup.run();
    removeHandlers();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:ab: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
