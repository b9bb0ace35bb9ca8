/**
 * Scenario 1 (and 6): one pod at a time, ADD then DEL, with 0, 1, 3, 8 additional networks.
 * Every implementation runs the same shapes in the same pod namespace, after a warm-up, in
 * rounds: A B C D, A B C D, ... (all started once, idle between their turns), so drift on the
 * machine hits every implementation alike and the spread across rounds shows how far one
 * round's figure can be trusted. With `gcDel`, each round also times the sandbox-GC DELs at one
 * network count. Variants (parallelAttach, events) run only the implementations they apply to.
 */
import { invocation, nextContainerId, warmUp, type BenchContext } from '../bench-context.ts';
import type {
  Implementation,
  ImplementationId,
  RunningImplementation,
  StartOptions,
} from '../implementations/implementation.ts';
import type { PodRef } from '../exec-cni.ts';
import type { Samples, StageBreakdown } from '../results.ts';
import { startLoadSampler } from '../load-sampler.ts';
import { parseStageMetrics, stageRound } from '../stage-metrics.ts';
import { median, round2 } from '../stats.ts';

export interface SequentialOptions {
  iterations: number;
  networkCounts: number[];
  /** At least 1; iterations are spread over the rounds (the first rounds get the remainder). */
  rounds?: number;
  start?: Omit<StartOptions, 'logDir'>;
  /** Shown in the log beside the implementation. */
  variant?: string;
  only?: (i: Implementation) => boolean;
  /** Time the runtime's two sandbox-GC DELs per pod at this network count. */
  gcDel?: number;
  /** Receives multinet thick's stage timings (its daemon's metrics). */
  stages?: StageBreakdown;
}

export async function runSequential(
  ctx: BenchContext,
  opts: SequentialOptions,
): Promise<Partial<Record<ImplementationId, Record<string, Samples>>>> {
  const impls = ctx.implementations.filter(opts.only ?? (() => true));
  const rounds = Math.max(1, Math.min(opts.rounds ?? 1, opts.iterations));
  const perRound = (r: number) =>
    Math.floor(opts.iterations / rounds) + (r < opts.iterations % rounds ? 1 : 0);
  const ns = ctx.scene.pods[1]!;
  const samples = new Map<ImplementationId, Map<number, Samples>>();
  const pods = new Map<string, PodRef[]>();
  for (const impl of impls) {
    const byCount = new Map<number, Samples>();
    for (const n of opts.networkCounts) {
      byCount.set(n, { add: [], del: [], errors: [], addRounds: [], delRounds: [] });
      pods.set(
        `${impl.id} ${n}`,
        await ctx.scene.createPods(`seq-${impl.id}-${n}`, ctx.scene.networks(n), opts.iterations),
      );
    }
    samples.set(impl.id, byCount);
  }
  const running: { impl: Implementation; r: RunningImplementation }[] = [];
  try {
    for (const impl of impls) {
      const r = await impl.start(ctx.scene, { ...(opts.start ?? {}), logDir: ctx.logDir });
      running.push({ impl, r });
      await warmUp(ctx, r);
    }
    const next = new Map<string, number>();
    for (let round = 0; round < rounds; round++) {
      for (const { impl, r } of running) {
        for (const n of opts.networkCounts) {
          const key = `${impl.id} ${n}`;
          const from = next.get(key) ?? 0;
          const batch = pods.get(key)!.slice(from, from + perRound(round));
          next.set(key, from + batch.length);
          await runBlock(ctx, opts, r, impl.id, n, batch, samples.get(impl.id)!.get(n)!, ns.path);
        }
      }
      ctx.log(`  round ${round + 1}/${rounds} done\n`);
    }
  } finally {
    for (const { r } of running.reverse()) await r.stop();
  }
  const out: Partial<Record<ImplementationId, Record<string, Samples>>> = {};
  for (const impl of impls) {
    const perCount: Record<string, Samples> = {};
    for (const n of opts.networkCounts) {
      const s = samples.get(impl.id)!.get(n)!;
      perCount[String(n)] = s;
      ctx.log(
        `  ${impl.id}${opts.variant ? ` (${opts.variant})` : ''} n=${n}: ADD ${median(s.add).toFixed(1)} ms, DEL ${median(s.del).toFixed(1)} ms` +
          (s.gcDel ? `, GC DEL ${median(s.gcDel).toFixed(1)} ms` : '') +
          (s.errors.length ? `, ${s.errors.length} errors (${s.errors[0]})` : '') +
          '\n',
      );
    }
    out[impl.id] = perCount;
  }
  await ctx.scene.deletePods([...pods.values()].flat().filter((p) => !gcDeleted.has(p)));
  await ctx.scene.resetPodNs(ns); // a failed DEL must not fail the next phase's ADDs
  return out;
}

const gcDeleted = new WeakSet<PodRef>();

/** One implementation's turn in a round at one pod shape. */
async function runBlock(
  ctx: BenchContext,
  opts: SequentialOptions,
  running: RunningImplementation,
  id: ImplementationId,
  n: number,
  batch: PodRef[],
  s: Samples,
  netns: string,
): Promise<void> {
  const networks = ctx.scene.networks(n);
  const stages = opts.stages && opts.stages.implementation === id ? running.metrics : undefined;
  const snapshot = async () => (stages ? parseStageMetrics(await stages()) : undefined);
  const before = await snapshot();
  const load = startLoadSampler(1_000);
  const adds: number[] = [];
  const dels: number[] = [];
  const ids: string[] = [];
  for (const pod of batch) {
    const cid = nextContainerId(`s${n}-${id}`);
    ids.push(cid);
    const add = await running.call(invocation('ADD', cid, netns, pod, networks));
    const del = await running.call(invocation('DEL', cid, netns, pod, networks));
    if (add.ok) adds.push(round2(add.ms));
    else s.errors.push(`ADD: ${add.error}`);
    if (del.ok) dels.push(round2(del.ms));
    else s.errors.push(`DEL: ${del.error}`);
  }
  s.add.push(...adds);
  s.del.push(...dels);
  s.addRounds!.push(adds);
  s.delRounds!.push(dels);
  (s.roundLoadPeaks ??= []).push(load.stop().peak);
  const after = await snapshot();
  if (before && after && opts.stages) record(opts.stages, n, { ADD: adds, DEL: dels }, before, after);
  if (opts.gcDel !== n) return;

  // The pod is gone, then the runtime removes the sandbox: two more DELs, nothing cached.
  await ctx.scene.deletePods(batch);
  for (const pod of batch) gcDeleted.add(pod);
  const gc: number[] = [];
  s.gcDel ??= [];
  s.gcDelRounds ??= [];
  s.gcErrors ??= [];
  for (let i = 0; i < batch.length; i++) {
    for (let k = 0; k < 2; k++) {
      const del = await running.call(invocation('DEL', ids[i]!, netns, batch[i]!, networks));
      if (del.ok) gc.push(round2(del.ms));
      else s.gcErrors.push(`GC DEL: ${del.error}`);
    }
  }
  s.gcDel.push(...gc);
  s.gcDelRounds.push(gc);
  const afterGc = await snapshot();
  if (after && afterGc && opts.stages) record(opts.stages, n, { 'GC DEL': gc }, after, afterGc, 'DEL');
}

function record(
  into: StageBreakdown,
  n: number,
  walls: Record<string, number[]>,
  before: ReturnType<typeof parseStageMetrics>,
  after: ReturnType<typeof parseStageMetrics>,
  metricCommand?: string,
): void {
  const byCommand = (into.byCount[String(n)] ??= {});
  for (const [command, wall] of Object.entries(walls)) {
    const round = stageRound(before, after, metricCommand ?? command, wall);
    if (round) (byCommand[command] ??= []).push(round);
  }
}
