import { AutoConfig } from '../host/auto-config.ts';
import type { DaemonConfig } from '../config/daemon-config.ts';
import { parseListenAddress } from '../config/daemon-config.ts';
import type { MultinetConfig } from '../config/multinet-config.ts';
import type { EngineDeps } from '../engine/engine-deps.ts';
import type { Logger } from '../log/logger.ts';
import { BackgroundEvents } from '../k8s/background-events.ts';
import { CachedClusterView } from '../k8s/cached-cluster-view.ts';
import type { ClusterView, PodInfo, PodRef } from '../k8s/cluster-view.ts';
import { probeNetns } from '../host/nsfs-netns-probe.ts';
import { Informer } from '../k8s/informer.ts';
import { DirectoryClusterView } from '../local/directory-cluster-view.ts';
import { toCachedPod } from '../k8s/informer-objects.ts';
import type { KubeRestClient, RequestObserver } from '../k8s/kube-rest-client.ts';
import { KubernetesClusterView } from '../k8s/kubernetes-cluster-view.ts';
import { networkInformers } from '../k8s/network-informers.ts';
import { AttachmentChecker } from './attachment-checker.ts';
import { ConcurrencyLimiter } from './concurrency-limiter.ts';
import { ContainerLocks } from './container-locks.ts';
import { DaemonMetrics } from './daemon-metrics.ts';
import type { EngineConfigState } from './handle-cni-request.ts';
import { handleCniRequest } from './handle-cni-request.ts';
import type { Readiness } from './health.ts';
import { MetricsServer } from './metrics-server.ts';
import { ObservedDelegateLists } from './observed-delegate-lists.ts';
import { RequestAborts } from './request-aborts.ts';
import { StageTimers } from './stage-timer.ts';
import { timedClusterView, timedPlanStore } from './timed-ports.ts';
import { SocketServer } from './socket-server.ts';

/** The real adapters, made by the composition root (src/bin/daemon-main.ts). */
export interface DaemonDeps {
  config: DaemonConfig;
  /** The node whose pods are cached; "" = no pod cache (pods are read live). */
  nodeName: string;
  /** Owner the socket directory must have. */
  uid: number;
  log: Logger;
  /** The API client, built with our observer; undefined = no API server. */
  connect(observe: RequestObserver): KubeRestClient | undefined;
  buildEngineDeps(
    config: MultinetConfig,
    cluster: ClusterView | undefined,
    /** Delegate runs and result cache calls report into these (timed-ports.ts). */
    stages?: StageTimers,
  ): EngineDeps & { close(): void; removeInterruptedWrites?(): Promise<number> };
  /** Called once listening (tests and the bin learn the metrics port). */
  onListening?(info: { socketPath: string; metricsPort: number | undefined }): void;
}

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
  const informers: Informer<unknown>[] = [];
  let draining = false;
  let listening = false;

  const auto = config.autoConfig
    ? new AutoConfig({
        ...config.autoConfig,
        socketPath: config.socketPath,
        readinessIndicatorFile: config.engine.readinessIndicatorFile,
        log: log.child?.({ subsystem: 'auto-config' }) ?? log,
      })
    : undefined;

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
    for (const inf of informers)
      checks[`cache:${inf.resource}`] = { ok: inf.synced, ...(inf.disabled ? { detail: 'disabled' } : {}) };
    const ec = engineConfig();
    checks['defaultNetwork'] = { ok: ec.ready, ...(ec.ready ? {} : { detail: ec.reason }) };
    return { ready: Object.values(checks).every((c) => c.ok), checks };
  };

  const metrics = new DaemonMetrics({
    inFlight: () => limiter.inFlight,
    caches: () => informers.map((i) => ({ resource: i.resource, size: i.size, synced: i.synced })),
    defaultNetworkReady: () => engineConfig().ready,
  });

  const client = config.localDir
    ? undefined
    : deps.connect((verb, path, status) => metrics.observeApiRequest(verb, path, status));
  let cluster: ClusterView | undefined;
  let local: DirectoryClusterView | undefined;
  let events: BackgroundEvents | undefined;
  let podCache: Informer<PodInfo> | undefined;
  let liveView: ClusterView | undefined;
  if (config.localDir) {
    local = new DirectoryClusterView(config.localDir, (file, reason) =>
      log.warn({ file, reason }, 'local mode: manifest skipped'),
    );
    cluster = local;
    log.info({ dir: config.localDir }, 'local mode: pods and networks from manifests');
  } else if (client) {
    const live = new KubernetesClusterView(client, deps.nodeName ? { nodeName: deps.nodeName } : {});
    const clog = log.child?.({ subsystem: 'cache' }) ?? log;
    const pods = deps.nodeName
      ? new Informer<PodInfo>(client, {
          resource: 'pods',
          path: '/api/v1/pods',
          query: { fieldSelector: `spec.nodeName=${deps.nodeName}` },
          transform: toCachedPod,
          log: clog,
        })
      : undefined;
    if (!pods)
      log.warn({}, 'no node name (MULTINET_NODE_NAME or nodeName): pods are read from the API server');
    const { nads, networks } = networkInformers(client, config.engine.maxNetworkConfigBytes, clog);
    informers.push(...(pods ? [pods] : []), nads, networks);
    podCache = pods;
    liveView = live;
    events = new BackgroundEvents(
      new CachedClusterView({
        live,
        client,
        pods,
        nads,
        networks,
        onLiveRead: (kind) => metrics.observeLiveRead(kind),
      }),
      log,
    );
    cluster = events;
  } else {
    log.info({}, 'no API server configured: default network only, no network-status');
  }
  const running: Promise<unknown>[] = informers.map((i) => i.start(background.signal));
  if (local) await local.start(background.signal);

  if (!config.engine.tenantPolicy)
    log.warn(
      {},
      "no tenantPolicy: every namespace's NADs are trusted as Multus trusts them (docs/security.md)",
    );
  const stages = new StageTimers();
  const base = deps.buildEngineDeps(config.engine, cluster, stages);
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
  };
  const locks = new ContainerLocks();
  const podCondition = (pod: PodRef, p: PodInfo | undefined) => ({
    gone: !p || (pod.uid !== '' && p.uid !== pod.uid),
    ...(p?.networksReady ? { ready: p.networksReady } : {}),
  });
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
          // An nsfs mount only: a netns file left after its namespace went does not count.
          netnsExists: async (path) => (await probeNetns(path)).state === 'present',
          cachedCondition: (pod) =>
            podCache?.synced ? podCondition(pod, podCache.get(pod.namespace, pod.name)) : undefined,
          readPod: async (pod) =>
            podCondition(pod, await (liveView ?? cluster)?.getPod(pod.namespace, pod.name)),
          observeCheck: (network, outcome) => metrics.observeCheck(network, outcome),
          observeDegraded: (n) => metrics.observeDegraded(n),
          log: log.child?.({ subsystem: 'check' }) ?? log,
        })
      : undefined;
  const server = new SocketServer({
    socketPath: config.socketPath,
    uid: deps.uid,
    log,
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
      }),
  });
  const addr = config.metricsAddress
    ? parseListenAddress(config.metricsAddress, config.metricsAllowNonLoopback)
    : undefined;
  const metricsServer = addr
    ? new MetricsServer({
        ...addr,
        maxConnections: config.metricsMaxConnections,
        log,
        readiness,
        metrics: async () => ({ contentType: metrics.contentType, text: await metrics.text() }),
      })
    : undefined;

  try {
    if (auto) {
      await auto.rescan();
      running.push(auto.start(background.signal));
    }
    await server.listen();
    listening = true;
    await metricsServer?.listen();
    deps.onListening?.({ socketPath: config.socketPath, metricsPort: metricsServer?.port });
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
    await Promise.race([events?.flush(), new Promise((r) => setTimeout(r, 2_000).unref())]);
    await Promise.allSettled(running);
    base.close();
    client?.close();
    log.info({}, 'stopped');
  }
}
