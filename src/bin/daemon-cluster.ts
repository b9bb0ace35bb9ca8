import type { DaemonConfig } from '../config/daemon-config.ts';
import type { ClusterObservers, DaemonCluster, WatchCache } from '../daemon/daemon-deps.ts';
import { BackgroundEvents } from '../k8s/background-events.ts';
import { CachedClusterView } from '../k8s/cached-cluster-view.ts';
import type { PodInfo } from '../k8s/cluster-view.ts';
import { Informer } from '../k8s/informer.ts';
import { toCachedPod } from '../k8s/informer-objects.ts';
import { KubeRestClient } from '../k8s/kube-rest-client.ts';
import type { KubeConnection } from '../k8s/kubeconfig.ts';
import { KubernetesClusterView } from '../k8s/kubernetes-cluster-view.ts';
import { networkInformers } from '../k8s/network-informers.ts';
import type { CachedClaim, CachedSlice } from '../k8s/dra.ts';
import {
  DraDeviceIndex,
  getClaim,
  KubernetesClaimStatusWriter,
  RESOURCE_CLAIMS_PATH,
  RESOURCE_SLICES_PATH,
  toCachedClaim,
  toCachedSlice,
} from '../k8s/dra.ts';
import { DirectoryClusterView } from '../local/directory-cluster-view.ts';
import type { Logger } from '../log/logger.ts';

/**
 * The daemon's pods and networks: a manifest directory (local mode), else informer caches over
 * the API server (pods of this node, NADs, legacy Networks) behind a CachedClusterView that
 * reads live on a miss and sends events in the background, else nothing.
 */
export function buildDaemonCluster(
  config: DaemonConfig,
  opts: {
    /** The node whose pods are cached; "" = no pod cache (pods are read live). */
    nodeName: string;
    log: Logger;
    /** The API connection, or undefined without an API server. */
    connection(): KubeConnection | undefined;
  },
  observe: ClusterObservers,
): DaemonCluster {
  const { log, nodeName } = opts;
  if (config.localDir) {
    const local = new DirectoryClusterView(config.localDir, (file, reason) =>
      log.warn({ file, reason }, 'local mode: manifest skipped'),
    );
    log.info({ dir: config.localDir }, 'local mode: pods and networks from manifests');
    // The manifests held are the local mode's caches: the same metrics and readiness checks
    // show what a reload picked up.
    let loaded = false;
    const held = (resource: string, size: () => number): WatchCache => ({
      resource,
      disabled: false,
      get synced() {
        return loaded;
      },
      get size() {
        return size();
      },
    });
    return {
      view: local,
      caches: [held('pods', () => local.podCount), held('network-definitions', () => local.networkCount)],
      start: async (signal) => {
        await local.start(signal);
        loaded = true;
        return { stopped: Promise.resolve() };
      },
      flush: async () => {},
      close: () => {},
    };
  }
  const conn = opts.connection();
  if (!conn) {
    log.info({}, 'no API server configured: default network only, no network-status');
    return {
      view: undefined,
      caches: [],
      start: async () => ({ stopped: Promise.resolve() }),
      flush: async () => {},
      close: () => {},
    };
  }
  const client = new KubeRestClient(conn, { observe: observe.apiRequest, timeoutMs: 30_000 });
  const live = new KubernetesClusterView(client, nodeName ? { nodeName } : {});
  const clog = log.child?.({ subsystem: 'cache' }) ?? log;
  const pods = nodeName
    ? new Informer<PodInfo>(client, {
        resource: 'pods',
        path: '/api/v1/pods',
        query: { fieldSelector: `spec.nodeName=${nodeName}` },
        transform: toCachedPod,
        log: clog,
      })
    : undefined;
  if (!pods) log.warn({}, 'no node name (MULTINET_NODE_NAME or nodeName): pods are read from the API server');
  const { nads, networks } = networkInformers(client, config.engine.maxNetworkConfigBytes, clog);
  const dra = config.dra && nodeName ? draCaches(client, nodeName, clog) : undefined;
  const informers = [...(pods ? [pods] : []), nads, networks, ...(dra?.informers ?? [])];
  const events = new BackgroundEvents(
    new CachedClusterView({ live, client, pods, nads, networks, onLiveRead: observe.liveRead }),
    log,
  );
  return {
    view: events,
    caches: informers,
    ...(pods
      ? { podCache: pods, watchPods: (listener) => pods.subscribe((c) => listener(c.value, c.deleted)) }
      : {}),
    live,
    ...(dra ? { dra: { devices: dra.devices, claimStatus: new KubernetesClaimStatusWriter(client) } } : {}),
    // The caches sync in the background: readiness reports them until they have.
    start: async (signal) => ({ stopped: Promise.allSettled(informers.map((i) => i.start(signal))) }),
    flush: () => events.flush(),
    close: () => client.close(),
  };
}

/**
 * DRA (docs/devices.md#dra-claims): every ResourceClaim reduced to its allocation results, and
 * this node's ResourceSlices reduced to the contract's two attributes. Both turn themselves off
 * on an API server without resource.k8s.io/v1 or without the RBAC for it.
 */
function draCaches(
  client: KubeRestClient,
  nodeName: string,
  log: Logger,
): { informers: Informer<unknown>[]; devices: DraDeviceIndex } {
  const claims = new Informer<CachedClaim>(client, {
    resource: 'resourceclaims',
    path: RESOURCE_CLAIMS_PATH,
    transform: toCachedClaim,
    optional: true,
    optionalWhenForbidden: true,
    pageSize: 500,
    // Opaque driver parameters can be large: never held (the transform keeps results only).
    maxStringBytes: 4096,
    log,
  });
  const slices = new Informer<CachedSlice>(client, {
    resource: 'resourceslices',
    path: RESOURCE_SLICES_PATH,
    query: { fieldSelector: `spec.nodeName=${nodeName}` },
    transform: toCachedSlice,
    optional: true,
    optionalWhenForbidden: true,
    maxStringBytes: 4096,
    log,
  });
  const devices = new DraDeviceIndex({
    enabled: () => !claims.disabled && !slices.disabled,
    claim: (ns, name) => claims.get(ns, name),
    slices: () => slices.values(),
    liveClaim: (ns, name, signal) => getClaim(client, ns, name, signal),
  });
  return { informers: [claims, slices] as Informer<unknown>[], devices };
}
