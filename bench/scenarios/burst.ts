/**
 * Scenario 2: a node reboot's worth of pods at once. Every pod (3 networks each) is ADDed in
 * parallel, then every pod is DELed in parallel; completion time, per-pod latencies, errors and
 * peak memory (daemon, delegates, plugin/shim processes) sampled meanwhile.
 */
import { invocation, nextContainerId, warmUp, withRunning, type BenchContext } from '../bench-context.ts';
import type { PodRef } from '../exec-cni.ts';
import type { ImplementationId } from '../implementations/implementation.ts';
import { pidsMatching, startMemorySampler } from '../process-memory.ts';
import type { BurstRun } from '../results.ts';
import { round2 } from '../stats.ts';
import { performance } from 'node:perf_hooks';

const SAMPLE_MS = 100;

export async function runBurst(
  ctx: BenchContext,
  opts: { pods: number; networksPerPod: number },
): Promise<Partial<Record<ImplementationId, BurstRun>>> {
  const out: Partial<Record<ImplementationId, BurstRun>> = {};
  const networks = ctx.scene.networks(opts.networksPerPod);
  const netns = ctx.scene.pods.slice(3, 3 + opts.pods);
  if (netns.length < opts.pods)
    throw new Error(`burst needs ${opts.pods} pod namespaces, scene has ${netns.length}`);
  for (const impl of ctx.implementations) {
    const pods: PodRef[] = await ctx.scene.createPods(`burst-${impl.id}`, networks, opts.pods);
    out[impl.id] = await withRunning(ctx, impl, {}, async (running) => {
      await warmUp(ctx, running, 1);
      const helpers = pidsMatching(/etcd|kube-apiserver|api-forwarder|baseline-worker/);
      const sampler = startMemorySampler({
        rootPid: process.pid,
        ...(running.daemonPid ? { daemonPid: running.daemonPid } : {}),
        exclude: (pid) => helpers.has(pid),
        intervalMs: SAMPLE_MS,
      });
      const ids = pods.map(() => nextContainerId(`b-${impl.id}`));
      const errors: string[] = [];
      const phase = async (command: 'ADD' | 'DEL') => {
        const t0 = performance.now();
        const results = await Promise.all(
          pods.map((pod, i) => running.call(invocation(command, ids[i]!, netns[i]!.path, pod, networks))),
        );
        const total = performance.now() - t0;
        for (const r of results) if (!r.ok) errors.push(`${command}: ${r.error}`);
        return { total, results, latencies: results.filter((r) => r.ok).map((r) => round2(r.ms)) };
      };
      const add = await phase('ADD');
      const del = await phase('DEL');
      const peaks = sampler.stop();
      // Untimed: DEL again what failed, as a runtime keeps retrying DEL, then clear what is still
      // left, so that one implementation's failures do not become the next one's errors.
      let leftovers = 0;
      for (const [i, r] of del.results.entries()) {
        if (r.ok) continue;
        for (let k = 0; k < 3; k++)
          if ((await running.call(invocation('DEL', ids[i]!, netns[i]!.path, pods[i]!, networks))).ok) break;
      }
      for (const ns of netns) leftovers += (await ctx.scene.resetPodNs(ns)).length;
      let alive: boolean | null = null;
      if (running.daemonPid) {
        try {
          process.kill(running.daemonPid, 0);
          alive = true;
        } catch {
          alive = false;
        }
      }
      const run: BurstRun = {
        pods: opts.pods,
        networksPerPod: opts.networksPerPod,
        addCompletionMs: round2(add.total),
        delCompletionMs: round2(del.total),
        addLatencies: add.latencies,
        delLatencies: del.latencies,
        errors,
        peakDaemonRssBytes: running.daemonPid ? peaks.daemon : null,
        peakDelegateRssBytes: peaks.delegates,
        peakPluginRssBytes: peaks.plugins,
        daemonAliveAfter: alive,
        leftoverLinks: leftovers,
        sampleIntervalMs: SAMPLE_MS,
      };
      ctx.log(
        `  ${impl.id}: ${opts.pods} pods ADD in ${add.total.toFixed(0)} ms, DEL in ${del.total.toFixed(0)} ms, ` +
          `${errors.length} errors${errors.length ? ` (${errors[0]})` : ''}, daemon peak ${(peaks.daemon / 2 ** 20).toFixed(1)} MiB, ` +
          `delegates peak ${(peaks.delegates / 2 ** 20).toFixed(1)} MiB\n`,
      );
      return run;
    });
    await ctx.scene.deletePods(pods);
  }
  return out;
}
