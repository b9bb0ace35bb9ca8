import { basename } from 'node:path';
import type { PluginExecOutcome, PluginExecRequest, PluginRunner } from '../cni/plugin-runner.ts';
import type { ResultCache, ResultCacheKey, ResultCacheRecord } from '../cni/result-cache.ts';
import type { AttachmentPlan, PlanStore } from '../engine/attachment-plan.ts';
import type { ClusterView, PodRef } from '../k8s/cluster-view.ts';
import { timed, type StageTimers } from './stage-timer.ts';

/** Times each delegate process (spawn to exit) into its request's StageTimer. */
export function timedPluginRunner(inner: PluginRunner, timers: StageTimers): PluginRunner {
  return {
    async exec(req: PluginExecRequest): Promise<PluginExecOutcome> {
      const timer = timers.forContainer(req.env['CNI_CONTAINERID']);
      if (!timer) return inner.exec(req);
      const t0 = performance.now();
      try {
        return await inner.exec(req);
      } finally {
        timer.delegate(basename(req.path), performance.now() - t0, t0);
      }
    },
  };
}

export function timedResultCache(inner: ResultCache, timers: StageTimers): ResultCache {
  const t = (id: string) => timers.forContainer(id);
  return {
    get: (key: ResultCacheKey) => timed(t(key.containerId), 'resultCache', () => inner.get(key)),
    put: (record: ResultCacheRecord) => timed(t(record.containerId), 'resultCache', () => inner.put(record)),
    delete: (key: ResultCacheKey) => timed(t(key.containerId), 'resultCache', () => inner.delete(key)),
    list: (containerId?: string) =>
      timed(containerId ? t(containerId) : undefined, 'resultCache', () => inner.list(containerId)),
  };
}

export function timedPlanStore(inner: PlanStore, timers: StageTimers): PlanStore {
  const t = (id: string) => timers.forContainer(id);
  return {
    get: (id: string) => timed(t(id), 'planRead', () => inner.get(id)),
    put: (plan: AttachmentPlan) => timed(t(plan.containerId), 'planWrite', () => inner.put(plan)),
    delete: (id: string) => timed(t(id), 'planWrite', () => inner.delete(id)),
    list: () => inner.list(),
  };
}

/** Times the network-status write (the one API call on the ADD path); the rest passes through. */
export function timedClusterView(inner: ClusterView, timers: StageTimers): ClusterView {
  return {
    getPod: (namespace, name, signal) => inner.getPod(namespace, name, signal),
    getNetworkObject: (namespace, name, signal) => inner.getNetworkObject(namespace, name, signal),
    writeNetworkStatus: (pod: PodRef, statusJson: string, signal?: AbortSignal, ready?) =>
      timed(timers.forPod(pod.uid), 'status', () => inner.writeNetworkStatus(pod, statusJson, signal, ready)),
    writeNetworksReady: (pod, ready, signal) =>
      timed(timers.forPod(pod.uid), 'status', () => inner.writeNetworksReady(pod, ready, signal)),
    recordEvent: (pod, type, reason, message) => inner.recordEvent(pod, type, reason, message),
  };
}
