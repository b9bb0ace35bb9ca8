import type { ClusterView, NetworkObject, NetworksReadyCondition, PodInfo, PodRef } from './cluster-view.ts';
import { ClusterUnavailableError } from './cluster-view.ts';
import type { Informer } from './informer.ts';
import type { KubeResponse, KubeRestClient } from './kube-rest-client.ts';
import { apiErrorMessage } from './kube-rest-client.ts';
import { legacyNetworkPath, nadPath } from './kubernetes-cluster-view.ts';

export interface CachedClusterViewOptions {
  /** Live API access: the fallback reads and every write. */
  live: ClusterView;
  /** For the NAD fallback, which skips the legacy kind when its informer is disabled. */
  client: Pick<KubeRestClient, 'request'>;
  /** Undefined when the daemon does not know its node name: pods are then read live. */
  pods: Informer<PodInfo> | undefined;
  nads: Informer<NetworkObject>;
  networks: Informer<NetworkObject>;
  now?(): number;
  /** Called on every live read, for metrics. */
  onLiveRead?(kind: 'pod' | 'network'): void;
  /**
   * How long after a live read of a missing NAD another miss is answered from the cache (default
   * LIVE_WINDOW_MS). The admission webhook passes 0: a NAD created right after a pod was refused
   * for lacking it must count at once, even if the watch has not delivered it yet.
   */
  networkMissWindowMs?: number;
}

/** The engine's lookup retries with 50-400 ms pauses; a second read this soon means "not what I wanted". */
const REPEAT_MS = 1_000;
/** At most one live GET per object in this window: later retries wait for the watch to deliver. */
const LIVE_WINDOW_MS = 5_000;

/**
 * The cluster seen through the daemon's watch caches. A hit costs no API request. A pod or NAD
 * missing from the cache, or a pod the engine asks for again at once (the runtime's UID did not
 * match: the cache may hold the previous pod of that name), is read live exactly once per
 * object and window; further retries are answered from the cache, which the watch keeps
 * current. Before the first list completed everything is read live. Writes go to the API.
 */
export class CachedClusterView implements ClusterView {
  private readonly served = new Map<string, number>();
  private readonly liveReads = new Map<string, number>();
  private readonly now: () => number;

  constructor(private readonly opts: CachedClusterViewOptions) {
    this.now = opts.now ?? Date.now;
  }

  async getPod(namespace: string, name: string, signal?: AbortSignal): Promise<PodInfo | undefined> {
    const informer = this.opts.pods;
    if (!informer?.synced) return this.livePod(namespace, name, signal);
    const key = `${namespace}/${name}`;
    const t = this.now();
    this.prune(t);
    const cached = informer.get(namespace, name);
    const servedAt = this.served.get(key);
    if (cached && (servedAt === undefined || t - servedAt >= REPEAT_MS)) {
      this.served.set(key, t);
      return cached;
    }
    const liveAt = this.liveReads.get(`pod:${key}`);
    if (liveAt !== undefined && t - liveAt < LIVE_WINDOW_MS) return cached;
    this.liveReads.set(`pod:${key}`, t);
    return this.livePod(namespace, name, signal);
  }

  async getNetworkObject(
    namespace: string,
    name: string,
    signal?: AbortSignal,
  ): Promise<NetworkObject | undefined> {
    const { nads, networks } = this.opts;
    if (!nads.synced || !networks.synced) return this.liveNetwork(namespace, name, signal);
    const hit = nads.get(namespace, name) ?? networks.get(namespace, name);
    if (hit) return hit;
    const key = `net:${namespace}/${name}`;
    const t = this.now();
    this.prune(t);
    const liveAt = this.liveReads.get(key);
    const window = this.opts.networkMissWindowMs ?? LIVE_WINDOW_MS;
    if (liveAt !== undefined && t - liveAt < window) return undefined;
    this.liveReads.set(key, t);
    return this.liveNetwork(namespace, name, signal);
  }

  writeNetworkStatus(
    pod: PodRef,
    statusJson: string,
    signal?: AbortSignal,
    ready?: NetworksReadyCondition,
  ): Promise<void> {
    return this.opts.live.writeNetworkStatus(pod, statusJson, signal, ready);
  }

  writeNetworksReady(pod: PodRef, ready: NetworksReadyCondition, signal?: AbortSignal): Promise<void> {
    return this.opts.live.writeNetworksReady(pod, ready, signal);
  }

  recordEvent(pod: PodRef, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    return this.opts.live.recordEvent(pod, type, reason, message);
  }

  private livePod(namespace: string, name: string, signal?: AbortSignal): Promise<PodInfo | undefined> {
    this.opts.onLiveRead?.('pod');
    return this.opts.live.getPod(namespace, name, signal);
  }

  private async liveNetwork(
    namespace: string,
    name: string,
    signal?: AbortSignal,
  ): Promise<NetworkObject | undefined> {
    this.opts.onLiveRead?.('network');
    const nad = await this.get(
      nadPath(namespace, name),
      `NetworkAttachmentDefinition ${namespace}/${name}`,
      signal,
    );
    if (nad || this.opts.networks.disabled) return nad;
    return this.get(legacyNetworkPath(namespace, name), `Network ${namespace}/${name}`, signal);
  }

  private async get(path: string, what: string, signal?: AbortSignal): Promise<NetworkObject | undefined> {
    let res: KubeResponse;
    try {
      res = await this.opts.client.request('GET', path, undefined, undefined, signal);
    } catch (err) {
      throw new ClusterUnavailableError(`GET ${what}: ${err instanceof Error ? err.message : String(err)}`, {
        cause: err,
      });
    }
    if (res.status === 404) return undefined;
    if (res.status >= 200 && res.status < 300) return JSON.parse(res.body) as NetworkObject;
    const msg = `GET ${what}: ${apiErrorMessage(res)}`;
    if (res.status >= 500 || res.status === 429) throw new ClusterUnavailableError(msg);
    throw new Error(msg);
  }

  /** Keeps the bookkeeping maps small: entries older than the longest window go. */
  private prune(t: number): void {
    if (this.served.size + this.liveReads.size < 512) return;
    for (const [k, v] of this.served) if (t - v >= REPEAT_MS) this.served.delete(k);
    for (const [k, v] of this.liveReads) if (t - v >= LIVE_WINDOW_MS) this.liveReads.delete(k);
  }
}
