import { unknownKeyMessage } from '../config/multinet-config.ts';
import type { EngineDeps } from '../engine/engine-deps.ts';
import type { PodInfo, PodRef } from '../k8s/cluster-view.ts';
import { AttachmentChecker } from './attachment-checker.ts';
import { ConcurrencyLimiter } from './concurrency-limiter.ts';
import { ContainerLocks } from './container-locks.ts';
import { HotplugController } from './hotplug-controller.ts';
import type { DaemonDeps } from './daemon-deps.ts';
import { DaemonMetrics } from './daemon-metrics.ts';
import type { EngineConfigState } from './handle-cni-request.ts';
import { handleCniRequest } from './handle-cni-request.ts';
import type { Readiness } from './health.ts';
import { ObservedDelegateLists } from './observed-delegate-lists.ts';
import { RequestAborts } from './request-aborts.ts';
import { StageTimers } from './stage-timer.ts';
import { timedClusterView, timedPlanStore } from './timed-ports.ts';

export type { DaemonDeps } from './daemon-deps.ts';

/**
 * The node daemon (thick mode), as `start(signal)`: watch caches, automatic configuration, the
 * socket server and metrics; resolves after a graceful shutdown once `signal` aborts — stop
 * accepting, let in-flight requests finish within shutdownTimeoutMs, then abort what is left.
 * The generated CNI config is left in place (see AutoConfig).
 */
export async function runDaemon(deps: DaemonDeps, signal: AbortSignal): Promise<void> {
  const { config, log } = deps;
  const background = new AbortController();
  const aborts = new RequestAborts();
  const limiter = new ConcurrencyLimiter(
    config.maxConcurrentRequests,
    config.maxQueuedRequests,
    config.queueTimeoutMs,
    { maxActive: config.maxConcurrentRequestsPerNamespace, maxQueued: config.maxQueuedRequestsPerNamespace },
  );
  let draining = false;
  let listening = false;

  const auto = deps.autoConfig;

  const engineConfig = (): EngineConfigState => {
    if (!auto) return { ready: true, config: config.engine };
    const state = auto.state();
    if (!state.ready) return { ready: false, config: config.engine, reason: state.reason };
    return {
      ready: true,
      config: { ...config.engine, clusterNetwork: '', clusterNetworkConfig: state.config },
    };
  };

  const readiness = (): Readiness => {
    const checks: Readiness['checks'] = {
      socket: { ok: listening && !draining, ...(draining ? { detail: 'shutting down' } : {}) },
    };
    for (const inf of cluster.caches)
      checks[`cache:${inf.resource}`] = { ok: inf.synced, ...(inf.disabled ? { detail: 'disabled' } : {}) };
    const ec = engineConfig();
    checks['defaultNetwork'] = { ok: ec.ready, ...(ec.ready ? {} : { detail: ec.reason }) };
    return { ready: Object.values(checks).every((c) => c.ok), checks };
  };

  // The metrics observe the cluster adapters, whose caches the metrics and readiness read (only
  // once called, after `cluster` exists).
  const metrics = new DaemonMetrics({
    inFlight: () => limiter.inFlight,
    caches: () => cluster.caches.map((i) => ({ resource: i.resource, size: i.size, synced: i.synced })),
    defaultNetworkReady: () => engineConfig().ready,
  });
  const cluster = deps.cluster({
    apiRequest: (verb, path, status) => metrics.observeApiRequest(verb, path, status),
    liveRead: (kind) => metrics.observeLiveRead(kind),
  });
  const locks = new ContainerLocks();
  // Built before the caches start, so that it sees their first list; passes wait for start(),
  // which runs once `engineDeps` below exists.
  const hotplug = config.hotplug ? hotplugController() : undefined;
  function hotplugController(): HotplugController | undefined {
    const podCache = cluster.podCache;
    if (!podCache || !cluster.watchPods) {
      log.warn(
        {},
        'hotplug is on but no pod of this node is watched (no API server, or no node name: MULTINET_NODE_NAME or nodeName): hot-plug stays off',
      );
      return undefined;
    }
    const controller = new HotplugController({
      deps: () => ({
        ...engineDeps,
        config: engineConfig().config,
        log: log.child?.({ subsystem: 'hotplug' }) ?? log,
      }),
      locks,
      limiter,
      cachedPod: (namespace, name) => podCache.get(namespace, name),
      begin: () => aborts.begin(),
      draining: () => draining,
      log: log.child?.({ subsystem: 'hotplug' }) ?? log,
    });
    cluster.watchPods((pod, deleted) => controller.podChanged(pod, deleted));
    return controller;
  }
  const running: Promise<unknown>[] = [(await cluster.start(background.signal)).stopped];

  for (const key of config.unknownKeys) log.warn({ key }, unknownKeyMessage(key, 'daemon config'));
  if (!config.engine.tenantPolicy)
    log.warn(
      {},
      "no tenantPolicy: every namespace's NADs are trusted as Multus trusts them (docs/security.md)",
    );
  const stages = new StageTimers();
  const base = deps.buildEngineDeps(config.engine, cluster.view, stages);
  // Before the socket opens, nobody else writes the caches: a killed predecessor's half-done
  // writes can go (they are never read, and each crash would leave more).
  const swept = await base.removeInterruptedWrites?.().catch((err: unknown) => {
    // A cache directory others may write to: refuse to start (host/private-dir.ts).
    if ((err as { code?: unknown }).code === 'UNTRUSTED_DIRECTORY') throw err;
    log.warn({ err: err instanceof Error ? err.message : String(err) }, 'cannot sweep the caches');
    return 0;
  });
  if (swept) log.info({ files: swept }, 'removed temporary files of cache writes a crash interrupted');
  const engineDeps: EngineDeps = {
    ...base,
    lists: new ObservedDelegateLists(base.lists, (p, c, o, s) => metrics.observeDelegate(p, c, o, s)),
    plans: timedPlanStore(base.plans, stages),
    cluster: base.cluster && timedClusterView(base.cluster, stages),
    ...(cluster.dra ? { draDevices: cluster.dra.devices, claimStatus: cluster.dra.claimStatus } : {}),
  };
  const podCondition = (pod: PodRef, p: PodInfo | undefined) => ({
    gone: !p || (pod.uid !== '' && p.uid !== pod.uid),
    ...(p?.networksReady ? { ready: p.networksReady } : {}),
  });
  const podCache = cluster.podCache;
  const checker =
    config.checkIntervalMs > 0
      ? new AttachmentChecker({
          intervalMs: config.checkIntervalMs,
          deps: () => ({
            ...engineDeps,
            config: engineConfig().config,
            log: log.child?.({ subsystem: 'check' }) ?? log,
          }),
          locks,
          limiter,
          netnsExists: (path) => deps.netnsExists(path),
          cachedCondition: (pod) =>
            podCache?.synced ? podCondition(pod, podCache.get(pod.namespace, pod.name)) : undefined,
          readPod: async (pod) =>
            podCondition(pod, await (cluster.live ?? cluster.view)?.getPod(pod.namespace, pod.name)),
          observeCheck: (network, outcome) => metrics.observeCheck(network, outcome),
          observeDegraded: (n) => metrics.observeDegraded(n),
          log: log.child?.({ subsystem: 'check' }) ?? log,
        })
      : undefined;
  const server = deps.socketServer({
    readiness,
    handle: (body) =>
      handleCniRequest(body, {
        deps: engineDeps,
        engineConfig,
        limiter,
        locks,
        log,
        draining: () => draining,
        aborts,
        observe: (c, o, s) => metrics.observeRequest(c, o, s),
        stages,
        observeStages: (c, timer) => metrics.observeStages(c, timer),
        ...(hotplug
          ? { containerDone: (_c: string, id: string, args: string) => void hotplug.containerDone(id, args) }
          : {}),
      }),
  });
  const metricsServer = deps.metricsServer?.({
    readiness,
    metrics: async () => ({ contentType: metrics.contentType, text: await metrics.text() }),
  });

  try {
    if (auto) {
      await auto.rescan();
      running.push(auto.start(background.signal));
    }
    await server.listen();
    listening = true;
    await metricsServer?.listen();
    deps.onListening?.({ socketPath: config.socketPath, metricsPort: metricsServer?.port });
    if (hotplug) {
      // The main signal: no pass starts once shutdown begins; running ones end like requests.
      running.push(hotplug.start(signal));
      log.info({}, "hot-plug on: edits of running pods' networks annotation are applied");
    }
    if (checker) {
      // The main signal, not `background`: rounds stop when shutdown begins, so draining ends.
      running.push(checker.start(signal));
      log.info({ intervalSeconds: config.checkIntervalMs / 1000 }, 'continuous CHECK on');
    }
    await new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
    log.info({ inFlight: limiter.inFlight, deadlineMs: config.shutdownTimeoutMs }, 'shutting down');
  } finally {
    draining = true;
    const closed = server.close();
    const idle = await Promise.race([
      limiter.whenIdle().then(() => true),
      new Promise<false>((r) => setTimeout(() => r(false), config.shutdownTimeoutMs).unref()),
    ]);
    if (!idle) {
      log.warn({ inFlight: limiter.inFlight }, 'shutdown deadline passed; aborting in-flight requests');
      aborts.abortAll(new Error('daemon shutting down'));
      await Promise.race([limiter.whenIdle(), new Promise((r) => setTimeout(r, 2_000).unref())]);
      server.closeAllConnections();
    }
    await closed;
    background.abort();
    await metricsServer?.close();
    await Promise.race([cluster.flush(), new Promise((r) => setTimeout(r, 2_000).unref())]);
    await Promise.allSettled(running);
    base.close();
    cluster.close();
    log.info({}, 'stopped');
  }
}
