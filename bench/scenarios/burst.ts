/**
 * Scenario 2: a node reboot's worth of pods at once. Every pod (3 networks each) is ADDed in
 * parallel, then every pod is DELed in parallel; completion time, per-pod latencies, errors and
 * peak memory (daemon, delegates, plugin/shim processes) sampled meanwhile. Like scenario 1, in
 * rounds with the implementations interleaved (all started once, idle between their turns): the
 * completion time is the median of the rounds, and the rounds' spread shows how far one burst
 * can be trusted. The daemon's log is searched for the process warnings Node printed meanwhile.
 */
import { open, stat } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { invocation, nextContainerId, warmUp, type BenchContext } from '../bench-context.ts';
import type { PodRef } from '../exec-cni.ts';
import type {
  Implementation,
  ImplementationId,
  RunningImplementation,
} from '../implementations/implementation.ts';
import { startLoadSampler } from '../load-sampler.ts';
import { pidsMatching, startMemorySampler, type MemoryPeaks } from '../process-memory.ts';
import type { BurstRun } from '../results.ts';
import { parseStageMetrics, stageRound, type MetricSnapshot } from '../stage-metrics.ts';
import { median, round2 } from '../stats.ts';

const SAMPLE_MS = 100;

export async function runBurst(
  ctx: BenchContext,
  opts: { pods: number; networksPerPod: number; rounds?: number },
): Promise<Partial<Record<ImplementationId, BurstRun>>> {
  const networks = ctx.scene.networks(opts.networksPerPod);
  const netns = ctx.scene.pods.slice(3, 3 + opts.pods);
  if (netns.length < opts.pods)
    throw new Error(`burst needs ${opts.pods} pod namespaces, scene has ${netns.length}`);
  const rounds = Math.max(1, opts.rounds ?? 1);
  const running: { impl: Implementation; r: RunningImplementation; pods: PodRef[]; run: BurstRun }[] = [];
  const peaks = new Map<ImplementationId, MemoryPeaks>();
  const warnings = new Map<ImplementationId, Map<string, number>>();
  try {
    for (const impl of ctx.implementations) {
      // The same pods every round, each round with new container IDs (a sandbox re-created).
      const pods = await ctx.scene.createPods(`burst-${impl.id}`, networks, opts.pods);
      const r = await impl.start(ctx.scene, { logDir: ctx.logDir });
      running.push({ impl, r, pods, run: emptyRun(opts) });
      await warmUp(ctx, r, 1);
    }
    // Long-lived helpers (tsx's esbuild service among them: the bench's own TypeScript loader), and
    // the other implementations' idle daemons, are nobody's plugin memory.
    const helpers = pidsMatching(/etcd|kube-apiserver|api-forwarder|baseline-worker|esbuild --service/);
    for (const { r } of running) if (r.daemonPid) helpers.add(r.daemonPid);
    for (let round = 0; round < rounds; round++) {
      for (const x of running) {
        const from = x.r.logFile ? await logSize(x.r.logFile) : 0;
        const p = await burstOnce(ctx, x.r, x.pods, netns, networks, x.run, helpers);
        const was = peaks.get(x.impl.id);
        peaks.set(x.impl.id, {
          daemon: Math.max(was?.daemon ?? 0, p.daemon),
          delegates: Math.max(was?.delegates ?? 0, p.delegates),
          plugins: Math.max(was?.plugins ?? 0, p.plugins),
        });
        if (x.r.logFile) countWarnings(await readFrom(x.r.logFile, from), warnings, x.impl.id);
      }
      ctx.log(`  burst round ${round + 1}/${rounds} done\n`);
    }
  } finally {
    for (const { r } of [...running].reverse()) await r.stop();
  }
  const out: Partial<Record<ImplementationId, BurstRun>> = {};
  for (const { impl, r, pods, run } of running) {
    const p = peaks.get(impl.id) ?? { daemon: 0, delegates: 0, plugins: 0 };
    run.addCompletionMs = round2(median(run.rounds!.map((x) => x.addCompletionMs)));
    run.delCompletionMs = round2(median(run.rounds!.map((x) => x.delCompletionMs)));
    run.peakDaemonRssBytes = r.daemonPid ? p.daemon : null;
    run.peakDelegateRssBytes = p.delegates;
    run.peakPluginRssBytes = p.plugins;
    const w = warnings.get(impl.id);
    if (w) run.daemonWarnings = [...w].map(([line, count]) => ({ line, count }));
    out[impl.id] = run;
    ctx.log(
      `  ${impl.id}: ${opts.pods} pods, ADD in ${run.addCompletionMs.toFixed(0)} ms ` +
        `(rounds ${run.rounds!.map((x) => x.addCompletionMs.toFixed(0)).join(', ')}), DEL in ${run.delCompletionMs.toFixed(0)} ms, ` +
        `${run.errors.length} errors${run.errors.length ? ` (${run.errors[0]})` : ''}, daemon peak ${(p.daemon / 2 ** 20).toFixed(1)} MiB, ` +
        `delegates peak ${(p.delegates / 2 ** 20).toFixed(1)} MiB` +
        (run.daemonWarnings?.length ? `, daemon warnings: ${run.daemonWarnings[0]!.line}` : '') +
        '\n',
    );
    await ctx.scene.deletePods(pods);
  }
  return out;
}

function emptyRun(opts: { pods: number; networksPerPod: number }): BurstRun {
  return {
    pods: opts.pods,
    networksPerPod: opts.networksPerPod,
    addCompletionMs: Number.NaN,
    delCompletionMs: Number.NaN,
    rounds: [],
    addLatencies: [],
    delLatencies: [],
    errors: [],
    peakDaemonRssBytes: null,
    peakDelegateRssBytes: 0,
    peakPluginRssBytes: 0,
    daemonAliveAfter: null,
    leftoverLinks: 0,
    sampleIntervalMs: SAMPLE_MS,
  };
}

/** One implementation's burst: ADD all, DEL all, then untimed clean-up; adds to `run`. */
async function burstOnce(
  ctx: BenchContext,
  running: RunningImplementation,
  pods: PodRef[],
  netns: BenchContext['scene']['pods'],
  networks: string[],
  run: BurstRun,
  helpers: Set<number>,
): Promise<MemoryPeaks> {
  const load = startLoadSampler(1_000);
  const sampler = startMemorySampler({
    rootPid: process.pid,
    ...(running.daemonPid ? { daemonPid: running.daemonPid } : {}),
    exclude: (pid) => helpers.has(pid) && pid !== running.daemonPid,
    intervalMs: SAMPLE_MS,
  });
  const ids = pods.map(() => nextContainerId('b'));
  const errorsBefore = run.errors.length;
  // Where a burst's time goes in multinet's daemon (mostly queue, under a burst): its metrics around each phase.
  const snapshot = async (): Promise<MetricSnapshot | undefined> =>
    running.metrics ? parseStageMetrics(await running.metrics()) : undefined;
  const phase = async (command: 'ADD' | 'DEL') => {
    const before = await snapshot();
    const t0 = performance.now();
    const results = await Promise.all(
      pods.map((pod, i) => running.call(invocation(command, ids[i]!, netns[i]!.path, pod, networks))),
    );
    const total = performance.now() - t0;
    for (const r of results) if (!r.ok) run.errors.push(`${command}: ${r.error}`);
    const latencies = results.filter((r) => r.ok).map((r) => round2(r.ms));
    const after = before && (await snapshot());
    const stages = after && stageRound(before, after, command, latencies);
    if (stages) ((run.stages ??= {})[command] ??= []).push(stages);
    return { total, results, latencies };
  };
  const add = await phase('ADD');
  const del = await phase('DEL');
  const peaks = sampler.stop();
  // Untimed: DEL again what failed, as a runtime keeps retrying DEL, then clear what is still
  // left, so that one implementation's failures do not become the next one's errors.
  for (const [i, r] of del.results.entries()) {
    if (r.ok) continue;
    for (let k = 0; k < 3; k++)
      if ((await running.call(invocation('DEL', ids[i]!, netns[i]!.path, pods[i]!, networks))).ok) break;
  }
  for (const ns of netns) run.leftoverLinks! += (await ctx.scene.resetPodNs(ns)).length;
  if (running.daemonPid) {
    try {
      process.kill(running.daemonPid, 0);
      run.daemonAliveAfter = run.daemonAliveAfter !== false;
    } catch {
      run.daemonAliveAfter = false;
    }
  }
  run.addLatencies.push(...add.latencies);
  run.delLatencies.push(...del.latencies);
  run.rounds!.push({
    addCompletionMs: round2(add.total),
    delCompletionMs: round2(del.total),
    errors: run.errors.length - errorsBefore,
    loadPeak: load.stop().peak,
  });
  return peaks;
}

async function logSize(file: string): Promise<number> {
  return (await stat(file).catch(() => ({ size: 0 }))).size;
}

async function readFrom(file: string, from: number): Promise<string> {
  const f = await open(file, 'r');
  try {
    const { size } = await f.stat();
    const buf = Buffer.alloc(Math.max(0, size - from));
    await f.read(buf, 0, buf.length, from);
    return buf.toString('utf8');
  } finally {
    await f.close();
  }
}

/** Node's process warnings, e.g. "(node:42) MaxListenersExceededWarning: Possible EventTarget memory leak...". */
const WARNING = /^\(node:\d+\) ([A-Za-z]*Warning: .*)$/gm;

function countWarnings(
  text: string,
  into: Map<ImplementationId, Map<string, number>>,
  id: ImplementationId,
): void {
  for (const m of text.matchAll(WARNING)) {
    const byLine = into.get(id) ?? new Map<string, number>();
    into.set(id, byLine);
    const line = m[1]!.slice(0, 300);
    byLine.set(line, (byLine.get(line) ?? 0) + 1);
  }
}
