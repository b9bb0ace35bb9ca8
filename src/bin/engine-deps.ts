import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { NetworkListRunner } from '../cni/network-list-runner.ts';
import type { AdapterOptions, MultinetConfig } from '../config/multinet-config.ts';
import type { EngineDeps } from '../engine/engine-deps.ts';
import type { Logger } from '../log/logger.ts';
import { NESTED_CALL_ENV, OWN_PLUGIN_TYPES } from '../wire/own-plugin-types.ts';
import { ChildProcessRunner } from '../host/child-process-runner.ts';
import { findSetpriv, findSystemTool } from '../host/delegate-lifetime.ts';
import { FileContainerLocks, type HeldContainerLock } from '../host/file-container-lock.ts';
import { FileConfSource } from '../host/file-conf-source.ts';
import { FilePlanStore } from '../host/file-plan-store.ts';
import { FileResultCache } from '../host/file-result-cache.ts';
import { FsPluginLocator } from '../host/fs-plugin-locator.ts';
import { IprouteLinkRemover } from '../host/iproute-link-remover.ts';
import { IprouteRouteEditor } from '../host/iproute-route-editor.ts';
import { ProcNodeNetnsCheck } from '../host/proc-node-netns.ts';
import { FileDeviceInfoStore } from '../host/file-device-info-store.ts';
import type { PodResourcesReader } from '../k8s/pod-resources.ts';
import type { ClusterView } from '../k8s/cluster-view.ts';
import type { KubeConnection } from '../k8s/kubeconfig.ts';
import { inClusterConnection, parseKubeconfig } from '../k8s/kubeconfig.ts';
import type { RequestObserver } from '../k8s/kube-rest-client.ts';
import { KubeRestClient } from '../k8s/kube-rest-client.ts';
import { KubernetesClusterView } from '../k8s/kubernetes-cluster-view.ts';
import { UnavailableClusterView } from '../k8s/unavailable-cluster-view.ts';
import type { StageTimers } from '../daemon/stage-timer.ts';
import { timedPluginRunner, timedResultCache } from '../daemon/timed-ports.ts';

type Env = Record<string, string | undefined>;

/** The API connection: multinet's `kubeconfig` option, else the in-cluster ServiceAccount, else none. */
export function kubeConnection(
  config: Pick<AdapterOptions, 'kubeconfig'>,
  env: Env,
): KubeConnection | undefined {
  return kubeConnectionFor(config.kubeconfig, env);
}

/** A kubeconfig file's connection when `kubeconfig` is set, else the in-cluster ServiceAccount's, else none. */
export function kubeConnectionFor(kubeconfig: string, env: Env): KubeConnection | undefined {
  const read = (p: string) => readFileSync(p);
  if (kubeconfig) {
    const conn = parseKubeconfig(readFileSync(kubeconfig, 'utf8'), kubeconfig, read);
    // An exec credential plugin inherits the process environment, as under kubectl.
    if (conn.exec)
      conn.exec.baseEnv = Object.fromEntries(
        Object.entries(env).filter(
          (e): e is [string, string] => e[1] !== undefined && !e[0].startsWith('CNI_'),
        ),
      );
    return conn;
  }
  if (env['KUBERNETES_SERVICE_HOST'] && env['KUBERNETES_SERVICE_PORT'])
    return inClusterConnection(env['KUBERNETES_SERVICE_HOST'], env['KUBERNETES_SERVICE_PORT'], read);
  return undefined;
}

/** The delegates' environment: ours without CNI_*, and marked so a nested multinet refuses to act. */
function delegateEnv(env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && !k.startsWith('CNI_')) out[k] = v;
  out[NESTED_CALL_ENV] = '1';
  return out;
}

/**
 * The kubelet's PodResources client, loaded on first use: a node whose NADs name no device
 * resource never loads the gRPC code (docs/devices.md has the bundle and start-up figures).
 */
export function lazyPodResources(socketPath: string): PodResourcesReader {
  let client: Promise<PodResourcesReader> | undefined;
  return {
    async podDevices(pod, signal) {
      client ??= import('../host/kubelet-pod-resources.ts').then(
        (m) => new m.KubeletPodResourcesClient({ socketPath }),
      );
      return (await client).podDevices(pod, signal);
    },
  };
}

/** Real adapters for the engine. `cluster` may be given (daemon caches, local mode); else built from config. */
export function buildEngineDeps(
  config: MultinetConfig,
  env: Env,
  log: Logger,
  opts: {
    cluster?: ClusterView | undefined;
    observe?: RequestObserver;
    wrapper?: string[];
    /** The daemon's per-request stage timers: delegate runs and result cache calls are timed. */
    stages?: StageTimers;
  } = {},
): EngineDeps & {
  close(): void;
  removeInterruptedWrites(olderThanMs?: number, containerId?: string): Promise<number>;
  lockContainer?(containerId: string): Promise<HeldContainerLock>;
} {
  const { engine, adapters } = config;
  let client: KubeRestClient | undefined;
  let cluster = opts.cluster;
  if (!cluster) {
    let conn: KubeConnection | undefined;
    try {
      conn = kubeConnection(adapters, env);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      log.warn({ err: reason }, 'cannot set up the API connection');
      cluster = new UnavailableClusterView(reason);
    }
    if (conn) {
      client = new KubeRestClient(conn, { ...(opts.observe ? { observe: opts.observe } : {}) });
      cluster = new KubernetesClusterView(client, {
        ...(env['MULTINET_NODE_NAME'] ? { nodeName: env['MULTINET_NODE_NAME'] } : {}),
      });
    }
  }
  const results = new FileResultCache(adapters.cacheDir);
  const plans = new FilePlanStore(adapters.cacheDir);
  const setpriv = findSetpriv();
  if (!setpriv)
    log.warn({}, 'util-linux setpriv not found: delegates will outlive a killed multinet process');
  const flock = findSystemTool('flock');
  if (!flock)
    log.warn({}, 'util-linux flock not found: thin-mode calls for one container are not serialised');
  const containerLocks = flock ? new FileContainerLocks(adapters.cacheDir, { flock, setpriv }) : undefined;
  const runner = new ChildProcessRunner({
    ...(opts.wrapper ? { wrapper: opts.wrapper } : {}),
    ...(setpriv ? { setpriv } : {}),
  });
  const lists = new NetworkListRunner({
    runner: opts.stages ? timedPluginRunner(runner, opts.stages) : runner,
    locator: new FsPluginLocator({ refusedTypes: OWN_PLUGIN_TYPES }),
    cache: opts.stages ? timedResultCache(results, opts.stages) : results,
    timeoutMs: adapters.delegateTimeoutMs,
    baseEnv: delegateEnv(env),
    onStderr: (type, text) => log.debug({ plugin: type, stderr: text.slice(0, 2000) }, 'delegate stderr'),
  });
  return {
    config: engine,
    cluster,
    confs: new FileConfSource(),
    lists,
    plans,
    nodeNetns: new ProcNodeNetnsCheck(),
    routes: new IprouteRouteEditor(opts.wrapper ? { nsenter: 'nsenter' } : {}),
    links: new IprouteLinkRemover(),
    podResources: lazyPodResources(adapters.podResourcesSocket),
    deviceInfo: new FileDeviceInfoStore(engine.deviceInfoDir),
    log,
    sleep: (ms, signal) => sleep(ms, undefined, signal ? { signal } : {}),
    now: () => Date.now(),
    close: () => client?.close(),
    removeInterruptedWrites: async (olderThanMs, containerId) =>
      (await plans.removeInterruptedWrites(olderThanMs, containerId)) +
      (await results.removeInterruptedWrites(olderThanMs, containerId)),
    ...(containerLocks ? { lockContainer: (id: string) => containerLocks.acquire(id) } : {}),
  };
}
