import { parseCniArgs } from '../cni/cni-env.ts';
import type { EngineDeps } from '../engine/engine-deps.ts';
import { describeCause } from '../engine/engine-error.ts';
import { hotplugPod, type HotplugOutcome } from '../engine/hotplug-pod.ts';
import { podIdentityFromArgs, type PodIdentity } from '../engine/pod-identity.ts';
import type { PodInfo } from '../k8s/cluster-view.ts';
import type { Logger } from '../log/logger.ts';
import { selectNetworksAnnotation } from '../spec/select-networks-annotation.ts';
import { DEFAULT_NETWORK_ANNOTATION } from '../spec/well-known.ts';
import type { ConcurrencyLimiter } from './concurrency-limiter.ts';
import type { ContainerLocks } from './container-locks.ts';

export interface HotplugControllerOptions {
  /** The engine as the next request would get it (config and default network as of now). */
  deps(): EngineDeps;
  locks: ContainerLocks;
  limiter: ConcurrencyLimiter;
  /** The pod as the daemon's pod cache holds it now. */
  cachedPod(namespace: string, name: string): PodInfo | undefined;
  /** Per pass: a signal aborted when the shutdown deadline passed (the daemon's RequestAborts). */
  begin(): { signal: AbortSignal; end(): void };
  /** True once shutdown began: no pass starts any more. */
  draining(): boolean;
  log: Logger;
  /** Called after each pass that ran (tests, metrics). */
  onPass?(pod: PodInfo, containerId: string, outcome: HotplugOutcome): void;
  sleep?(ms: number, signal: AbortSignal): Promise<void>;
}

/** What decides whether a pod's networks changed: the networks annotation and the default-network override. */
export function networksFingerprint(pod: PodInfo): string {
  const found = selectNetworksAnnotation(pod.annotations);
  return JSON.stringify([found?.key, found?.value, pod.annotations[DEFAULT_NETWORK_ANNOTATION]]);
}

/**
 * Hot-plug in the daemon (docs/hotplug.md). Sees every pod of this node through the pod cache's
 * changes; when a pod's networks annotation differs from the one last seen (or is seen for the
 * first time, so an edit made while the daemon was down is applied at start), it queues a pass
 * for the pod. Passes of one pod run one at a time, in the order of the edits (edits arriving
 * while a pass runs are folded into the newest), each under the sandbox's container lock and a
 * request slot, exactly as a CNI call: an ADD, DEL or CHECK of the container never interleaves
 * with one. A pod whose sandbox ADD has not finished yet is not in the index: the ADD's end
 * (`containerDone`) queues a pass, which then runs against the plan ADD wrote.
 */
export class HotplugController {
  /** Fingerprint last queued per pod UID. */
  private readonly seen = new Map<string, string>();
  /** The newest pod snapshot waiting for its pass, per UID. */
  private readonly pending = new Map<string, PodInfo>();
  private readonly running = new Map<string, Promise<void>>();
  /** Sandbox (container ID) → the pod its plan names. */
  private index: Promise<Map<string, PodIdentity>> | undefined;
  private startSignal: AbortSignal | undefined;
  private markStarted!: () => void;
  private readonly started = new Promise<void>((r) => (this.markStarted = r));

  constructor(private readonly opts: HotplugControllerOptions) {}

  /** Passes run from now until `signal` aborts; resolves once the last running pass ended. */
  async start(signal: AbortSignal): Promise<void> {
    this.startSignal = signal;
    this.index = this.buildIndex();
    this.markStarted();
    await new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
    await this.whenIdle();
  }

  /** Resolves once started and the sandboxes of this node are indexed. */
  async ready(): Promise<void> {
    await this.started;
    await this.index;
  }

  /** Resolves when no pass runs or waits. */
  async whenIdle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running.values()]);
  }

  /** A pod of the cache was put (listed, added, modified) or deleted. */
  podChanged(pod: PodInfo, deleted: boolean): void {
    const uid = pod.uid;
    if (uid === '') return;
    if (deleted) {
      this.seen.delete(uid);
      this.pending.delete(uid);
      return;
    }
    const fp = networksFingerprint(pod);
    if (this.seen.get(uid) === fp) return;
    this.enqueue(pod, fp);
  }

  /**
   * A CNI ADD or DEL of `containerId` ended (whatever its outcome): its plan is read again into
   * the index, and the pod gets a pass against it (an edit that arrived during ADD is applied now).
   */
  containerDone(containerId: string, cniArgs: string): Promise<void> {
    return (async () => {
      await this.started;
      const index = await this.index!;
      const plan = await this.opts
        .deps()
        .plans.get(containerId)
        .catch(() => undefined);
      if (plan?.pod) index.set(containerId, plan.pod);
      else index.delete(containerId);
      let id: PodIdentity | undefined;
      try {
        id = podIdentityFromArgs(parseCniArgs(cniArgs));
      } catch {
        id = undefined;
      }
      const ref = plan?.pod ?? id;
      if (!ref) return;
      const pod = this.opts.cachedPod(ref.namespace, ref.name);
      if (pod && (ref.uid === '' || pod.uid === ref.uid)) this.enqueue(pod, networksFingerprint(pod));
    })().catch((err: unknown) =>
      this.opts.log.warn({ containerId, err: describeCause(err) }, 'hot-plug: cannot index the sandbox'),
    );
  }

  private enqueue(pod: PodInfo, fp: string): void {
    this.seen.set(pod.uid, fp);
    this.pending.set(pod.uid, pod);
    if (this.running.has(pod.uid)) return;
    const run = this.drain(pod.uid).finally(() => this.running.delete(pod.uid));
    this.running.set(pod.uid, run);
  }

  private async drain(uid: string): Promise<void> {
    await this.started;
    const sleep = this.opts.sleep ?? abortableSleep;
    for (;;) {
      const pod = this.pending.get(uid);
      if (!pod || this.startSignal?.aborted || this.opts.draining()) return;
      this.pending.delete(uid);
      try {
        const again = await this.pass(pod);
        if (again && !this.pending.has(uid)) {
          // No request slot within the queue timeout: the daemon is saturated; try again shortly.
          this.pending.set(uid, pod);
          await sleep(1_000, this.startSignal!).catch(() => undefined);
        }
      } catch (err) {
        this.opts.log.warn(
          { pod: `${pod.namespace}/${pod.name}`, err: describeCause(err) },
          'hot-plug pass failed',
        );
      }
    }
  }

  /** One pass for the pod's sandbox; true when it could not run for lack of a request slot. */
  private async pass(pod: PodInfo): Promise<boolean> {
    const index = await this.index!;
    const sandboxes = [...index].filter(
      ([, p]) => p.namespace === pod.namespace && p.name === pod.name && (p.uid === '' || p.uid === pod.uid),
    );
    const label = `${pod.namespace}/${pod.name}`;
    if (sandboxes.length === 0) {
      this.opts.log.debug({ pod: label }, 'hot-plug: no sandbox of this pod on the node (yet)');
      return false;
    }
    if (sandboxes.length > 1) {
      // The runtime is replacing the sandbox: the DEL of the old one queues a pass again.
      this.opts.log.info(
        { pod: label, sandboxes: sandboxes.map(([id]) => id) },
        'hot-plug deferred: the pod has more than one sandbox',
      );
      return false;
    }
    const containerId = sandboxes[0]![0];
    const req = this.opts.begin();
    try {
      const release = await this.opts.limiter.acquire(pod.namespace, req.signal);
      if (!release) return !req.signal.aborted;
      try {
        const unlock = await this.opts.locks.acquire(containerId);
        try {
          const deps = this.opts.deps();
          const log = deps.log.child?.({ subsystem: 'hotplug', pod: label, containerId }) ?? deps.log;
          const outcome = await hotplugPod({ ...deps, log }, containerId, pod, req.signal);
          if (outcome.skipped) log.debug({ reason: outcome.skipped }, 'hot-plug: sandbox left alone');
          this.opts.onPass?.(pod, containerId, outcome);
        } finally {
          unlock();
        }
      } finally {
        release();
      }
    } finally {
      req.end();
    }
    return false;
  }

  private async buildIndex(): Promise<Map<string, PodIdentity>> {
    const deps = this.opts.deps();
    const index = new Map<string, PodIdentity>();
    for (const id of await deps.plans.list().catch(() => [] as string[])) {
      const plan = await deps.plans.get(id).catch(() => undefined);
      if (plan?.pod) index.set(id, plan.pod);
    }
    return index;
  }
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
