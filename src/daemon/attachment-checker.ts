import type { AttachmentPlan } from '../engine/attachment-plan.ts';
import { rebuildNetworkStatus } from '../engine/attachment-status.ts';
import { checkAttachments, type AttachmentCheck } from '../engine/check-pod.ts';
import type { EngineDeps } from '../engine/engine-deps.ts';
import { describeCause } from '../engine/engine-error.ts';
import type { Logger } from '../log/logger.ts';
import {
  attachedCondition,
  conditionTime,
  degradedCondition,
  NetworksReadyReason,
  sameCondition,
} from '../engine/networks-ready.ts';
import type { NetworksReadyCondition, PodRef } from '../k8s/cluster-view.ts';
import type { CheckMark } from '../spec/network-status.ts';
import { formatNetworkStatus } from '../spec/network-status.ts';
import type { ConcurrencyLimiter } from './concurrency-limiter.ts';
import type { ContainerLocks } from './container-locks.ts';

/** What the API holds for a pod: gone (deleted or re-created), or its NetworksReady condition. */
export type PodConditionLookup = (pod: PodRef) => Promise<{ gone: boolean; ready?: NetworksReadyCondition }>;

export interface AttachmentCheckerOptions {
  intervalMs: number;
  /** The engine as the next request would get it (the default network may change at run time). */
  deps(): EngineDeps;
  locks: ContainerLocks;
  limiter: ConcurrencyLimiter;
  /** Whether a plan's network namespace still exists (a sandbox that went without DEL is not checked). */
  netnsExists(path: string): Promise<boolean>;
  /**
   * The pod's condition as the API holds it, when known without an API read (the daemon's pod
   * cache); undefined = not known that way, then the checker's own record, then `readPod`.
   */
  cachedCondition(pod: PodRef): { gone: boolean; ready?: NetworksReadyCondition } | undefined;
  /** A live read of the pod's condition: only when neither the cache nor the checker knows it. */
  readPod: PodConditionLookup;
  observeCheck?(network: string, outcome: AttachmentCheck['outcome']): void;
  observeDegraded?(attachments: number): void;
  log: Logger;
  now?(): Date;
}

interface SweepTotals {
  containers: number;
  checked: number;
  failed: number;
  skipped: number;
}

/**
 * Continuous CHECK (docs/readiness.md): every `intervalMs`, the delegates' CHECK for each cached
 * attachment of this node, one container at a time, each under its container's lock and a free
 * request slot (never ahead of a CNI call: a container with no free slot waits for the next
 * round). Drift is reported, never repaired: the NetworksReady condition and a mark on the
 * attachment's network-status entry (one PATCH, only when they change), an Event and metrics.
 */
export class AttachmentChecker {
  /** The condition last written per pod UID (used when the pod cache cannot tell). */
  private readonly written = new Map<string, NetworksReadyCondition>();
  /** When each failing attachment (`containerId/ifName`) was first seen failing. */
  private readonly failingSince = new Map<string, string>();
  private readonly now: () => Date;

  constructor(private readonly opts: AttachmentCheckerOptions) {
    this.now = opts.now ?? (() => new Date());
  }

  async start(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await delay(this.opts.intervalMs, signal);
      if (signal.aborted) return;
      await this.sweep(signal).catch((err: unknown) => {
        if (!signal.aborted) this.opts.log.warn({ err: describeCause(err) }, 'CHECK round failed');
      });
    }
  }

  /** One round over every cached plan. */
  async sweep(signal?: AbortSignal): Promise<SweepTotals> {
    const deps = this.opts.deps();
    const t0 = performance.now();
    const totals: SweepTotals = { containers: 0, checked: 0, failed: 0, skipped: 0 };
    const live = await this.livePlans(deps);
    const stillFailing = new Set<string>();
    for (const plan of live) {
      if (signal?.aborted) break;
      const release = this.opts.limiter.tryAcquire('');
      if (!release) {
        totals.skipped++;
        continue;
      }
      const unlock = await this.opts.locks.acquire(plan.containerId);
      try {
        // Under the lock: the plan may have gone (DEL) or changed (a new ADD) meanwhile.
        const current = await deps.plans.get(plan.containerId).catch(() => undefined);
        if (!current || current.netns === '' || !(await this.opts.netnsExists(current.netns))) continue;
        const outcomes = await checkAttachments(deps, current, current.netns, [], undefined, signal);
        totals.containers++;
        for (const o of outcomes) {
          this.opts.observeCheck?.(o.network, o.outcome);
          if (o.outcome === 'failure') {
            totals.failed++;
            stillFailing.add(`${current.containerId}/${o.ifName}`);
          } else if (o.outcome === 'success') totals.checked++;
        }
        await this.report(deps, current, outcomes, signal);
      } catch (err) {
        if (signal?.aborted) break;
        this.opts.log.warn({ containerId: plan.containerId, err: describeCause(err) }, 'CHECK failed to run');
      } finally {
        unlock();
        release();
      }
    }
    // Only what still exists is remembered: the maps stay as small as the node's sandboxes.
    for (const key of this.failingSince.keys()) if (!stillFailing.has(key)) this.failingSince.delete(key);
    const uids = new Set(live.map((p) => p.pod?.uid));
    for (const uid of this.written.keys()) if (!uids.has(uid)) this.written.delete(uid);
    this.opts.observeDegraded?.(totals.failed);
    this.opts.log.debug(
      { ...totals, plans: live.length, ms: Math.round(performance.now() - t0) },
      'CHECK round done',
    );
    return totals;
  }

  /**
   * Plans whose sandbox still has its network namespace. A pod with two such sandboxes is being
   * moved to a new one by the runtime: it is left for a later round, so the old sandbox's state
   * never overwrites what the new one's ADD wrote.
   */
  private async livePlans(deps: EngineDeps): Promise<AttachmentPlan[]> {
    const byPod = new Map<string, AttachmentPlan[]>();
    const plans: AttachmentPlan[] = [];
    for (const id of await deps.plans.list()) {
      const plan = await deps.plans.get(id).catch(() => undefined);
      if (!plan || plan.netns === '' || !(await this.opts.netnsExists(plan.netns))) continue;
      plans.push(plan);
      const key = plan.pod ? plan.pod.uid || `${plan.pod.namespace}/${plan.pod.name}` : `ctr:${id}`;
      byPod.set(key, [...(byPod.get(key) ?? []), plan]);
    }
    const crowded = new Set([...byPod.values()].filter((p) => p.length > 1).flat());
    for (const plan of crowded)
      this.opts.log.debug(
        { containerId: plan.containerId, pod: plan.pod && `${plan.pod.namespace}/${plan.pod.name}` },
        'CHECK deferred: the pod has more than one sandbox',
      );
    return plans.filter((p) => !crowded.has(p));
  }

  /** Writes the condition and the marks when they differ from what the API holds; one Event then. */
  private async report(
    deps: EngineDeps,
    plan: AttachmentPlan,
    outcomes: AttachmentCheck[],
    signal?: AbortSignal,
  ): Promise<void> {
    const failures = outcomes.filter((o) => o.outcome === 'failure');
    for (const f of failures)
      deps.log.warn(
        { containerId: plan.containerId, network: f.network, ifName: f.ifName, err: f.error },
        'CHECK failed: attachment drifted',
      );
    const pod = plan.pod;
    if (!pod || !deps.cluster) return;
    const desired =
      failures.length > 0
        ? degradedCondition(
            failures.map((f) => ({ network: f.network, ifName: f.ifName, error: f.error ?? '' })),
          )
        : attachedCondition(plan.attachments);
    const known = await this.known(pod);
    if (known.gone || sameCondition(known.ready, desired)) return;

    const now = conditionTime(this.now());
    const marks = new Map<string, CheckMark>();
    for (const f of failures) {
      const key = `${plan.containerId}/${f.ifName}`;
      const since = this.failingSince.get(key) ?? now;
      this.failingSince.set(key, since);
      marks.set(f.ifName, { error: f.error ?? '', since });
    }
    const statuses = await rebuildNetworkStatus(deps, plan, marks);
    const ready = {
      ...desired,
      ...(known.ready?.status !== desired.status ? { lastTransitionTime: now } : {}),
    };
    await deps.cluster.writeNetworkStatus(pod, formatNetworkStatus(statuses), signal, ready);
    this.written.set(pod.uid, desired);
    deps.log.info(
      { pod: `${pod.namespace}/${pod.name}`, status: desired.status, reason: desired.reason },
      'NetworksReady written',
    );
    const events = deps.config.events;
    if (events === 'none') return;
    if (desired.status === 'False')
      await deps.cluster.recordEvent(pod, 'Warning', NetworksReadyReason.Degraded, desired.message);
    else if (known.ready?.status === 'False' && events === 'all')
      await deps.cluster.recordEvent(pod, 'Normal', 'NetworksRecovered', desired.message);
  }

  private async known(pod: PodRef): Promise<{ gone: boolean; ready?: NetworksReadyCondition }> {
    const cached = this.opts.cachedCondition(pod);
    if (cached) return cached;
    const mine = this.written.get(pod.uid);
    if (mine) return { gone: false, ready: mine };
    const read = await this.opts.readPod(pod);
    if (read.ready) this.written.set(pod.uid, read.ready);
    return read;
  }
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
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
