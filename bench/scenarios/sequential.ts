/**
 * Scenario 1 (and 6): one pod at a time, ADD then DEL, with 0, 1, 3, 8 additional networks.
 * Every implementation runs the same shapes in the same pod namespace, after a warm-up. Variants
 * (parallelAttach, events) run only the implementations they apply to.
 */
import { invocation, nextContainerId, warmUp, withRunning, type BenchContext } from '../bench-context.ts';
import type { Implementation, ImplementationId, StartOptions } from '../implementations/implementation.ts';
import type { PodRef } from '../exec-cni.ts';
import type { Samples } from '../results.ts';
import { median, round2 } from '../stats.ts';

export async function runSequential(
  ctx: BenchContext,
  opts: {
    iterations: number;
    networkCounts: number[];
    start?: Omit<StartOptions, 'logDir'>;
    /** Shown in the log beside the implementation. */
    variant?: string;
    only?: (i: Implementation) => boolean;
  },
): Promise<Partial<Record<ImplementationId, Record<string, Samples>>>> {
  const runs: Partial<Record<ImplementationId, Record<string, Samples>>> = {};
  const ns = ctx.scene.pods[1]!;
  for (const impl of ctx.implementations.filter(opts.only ?? (() => true))) {
    const perCount: Record<string, Samples> = {};
    const pods = new Map<number, PodRef[]>();
    for (const n of opts.networkCounts)
      pods.set(n, await ctx.scene.createPods(`seq-${impl.id}-${n}`, ctx.scene.networks(n), opts.iterations));
    await withRunning(ctx, impl, opts.start ?? {}, async (running) => {
      await warmUp(ctx, running);
      for (const n of opts.networkCounts) {
        const networks = ctx.scene.networks(n);
        const s: Samples = { add: [], del: [], errors: [] };
        for (let i = 0; i < opts.iterations; i++) {
          const pod = pods.get(n)![i]!;
          const id = nextContainerId(`s${n}-${impl.id}`);
          const add = await running.call(invocation('ADD', id, ns.path, pod, networks));
          const del = await running.call(invocation('DEL', id, ns.path, pod, networks));
          if (add.ok) s.add.push(round2(add.ms));
          else s.errors.push(`ADD: ${add.error}`);
          if (del.ok) s.del.push(round2(del.ms));
          else s.errors.push(`DEL: ${del.error}`);
        }
        perCount[String(n)] = s;
        ctx.log(
          `  ${impl.id}${opts.variant ? ` (${opts.variant})` : ''} n=${n}: ADD ${median(s.add).toFixed(1)} ms, DEL ${median(s.del).toFixed(1)} ms` +
            (s.errors.length ? `, ${s.errors.length} errors (${s.errors[0]})` : '') +
            '\n',
        );
      }
    });
    await ctx.scene.deletePods([...pods.values()].flat());
    await ctx.scene.resetPodNs(ns); // a failed DEL must not fail the next implementation's ADDs
    runs[impl.id] = perCount;
  }
  return runs;
}
