import type { CallOutcome, CniInvocation, PodRef } from './exec-cni.ts';
import type {
  Implementation,
  RunningImplementation,
  StartOptions,
} from './implementations/implementation.ts';
import type { BenchScene } from './scene.ts';

/** What every scenario gets: the scene, the run's size, a log, and the implementations. */
export interface BenchContext {
  scene: BenchScene;
  quick: boolean;
  logDir: string;
  implementations: readonly Implementation[];
  log(line: string): void;
}

/** Starts `impl`, runs `fn`, and always stops it (daemons never outlive a scenario). */
export async function withRunning<T>(
  ctx: BenchContext,
  impl: Implementation,
  opts: Omit<StartOptions, 'logDir'>,
  fn: (running: RunningImplementation) => Promise<T>,
): Promise<T> {
  const running = await impl.start(ctx.scene, { ...opts, logDir: ctx.logDir });
  try {
    return await fn(running);
  } finally {
    await running.stop();
  }
}

let containerSeq = 0;
export const nextContainerId = (tag: string): string => `${tag}-${++containerSeq}`.slice(0, 60);

export function invocation(
  command: CniInvocation['command'],
  containerId: string,
  netns: string,
  pod: PodRef,
  networks: string[],
): CniInvocation {
  return { command, containerId, netns, pod, networks };
}

/**
 * ADD + DEL of one pod until an ADD succeeds (a daemon may still be syncing its caches), then a
 * few more: the first calls of a process pay for page cache and JIT, not for the design.
 */
export async function warmUp(ctx: BenchContext, running: RunningImplementation, rounds = 3): Promise<void> {
  const networks = ctx.scene.networks(Math.min(3, ctx.scene.maxNetworks));
  const pod = await ctx.scene.createPod('warmup', networks); // the same pod each round: warm-up only
  const ns = ctx.scene.pods[0]!;
  const deadline = Date.now() + 60_000;
  let ok = 0;
  let last: CallOutcome | undefined;
  while (ok < rounds) {
    const id = nextContainerId('warm');
    last = await running.call(invocation('ADD', id, ns.path, pod, networks));
    await running.call(invocation('DEL', id, ns.path, pod, networks));
    if (last.ok) ok++;
    else if (Date.now() > deadline) throw new Error(`warm-up ADD keeps failing: ${last.error}`);
    else await new Promise((r) => setTimeout(r, 250));
  }
  await ctx.scene.deletePods([pod]);
  await ctx.scene.resetPodNs(ns);
}
