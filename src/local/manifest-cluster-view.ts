import type {
  ClusterView,
  NetworkObject,
  NetworksReadyCondition,
  PodInfo,
  PodRef,
} from '../k8s/cluster-view.ts';
import { toPodInfo } from '../k8s/kubernetes-cluster-view.ts';
import { objectRef } from './manifest-documents.ts';

const NETWORK_KINDS = new Set(['NetworkAttachmentDefinition', 'Network']);

/**
 * A cluster made of manifests held in memory: what `explain` plans against, and the base of
 * local mode. Status writes and events are kept in memory; local mode persists them.
 */
export class ManifestClusterView implements ClusterView {
  protected readonly pods = new Map<string, PodInfo>();
  protected readonly networks = new Map<string, NetworkObject>();
  readonly statusWrites = new Map<string, string>();
  readonly readyWrites = new Map<string, NetworksReadyCondition>();
  readonly events: { pod: PodRef; type: string; reason: string; message: string }[] = [];

  constructor(objects: Record<string, unknown>[] = []) {
    this.load(objects);
  }

  /** Pods held now (local mode's `multinet_cache_objects{resource="pods"}`). */
  get podCount(): number {
    return this.pods.size;
  }

  /** NetworkAttachmentDefinitions and 2018 Networks held now, one per name. */
  get networkCount(): number {
    return this.networks.size;
  }

  /** Replaces the content with these objects (local mode calls it when the directory changes). */
  load(objects: Record<string, unknown>[]): void {
    this.pods.clear();
    this.networks.clear();
    for (const obj of objects) {
      const ref = objectRef(obj);
      const key = `${ref.namespace}/${ref.name}`;
      if (ref.kind === 'Pod') {
        const meta = { ...(obj['metadata'] as Record<string, unknown>), namespace: ref.namespace };
        this.pods.set(key, toPodInfo({ ...obj, metadata: meta }));
      } else if (NETWORK_KINDS.has(ref.kind)) {
        const meta = { ...(obj['metadata'] as Record<string, unknown>), namespace: ref.namespace };
        const normalized = { ...obj, metadata: meta };
        // A NetworkAttachmentDefinition wins over a legacy Network of the same name, as in the API adapter.
        if (ref.kind === 'NetworkAttachmentDefinition' || !this.networks.has(key))
          this.networks.set(key, normalized);
      }
    }
  }

  podList(): PodInfo[] {
    return [...this.pods.values()];
  }

  async getPod(namespace: string, name: string): Promise<PodInfo | undefined> {
    return this.pods.get(`${namespace}/${name}`);
  }

  async getNetworkObject(namespace: string, name: string): Promise<NetworkObject | undefined> {
    return this.networks.get(`${namespace}/${name}`);
  }

  async writeNetworkStatus(
    pod: PodRef,
    statusJson: string,
    _signal?: AbortSignal,
    ready?: NetworksReadyCondition,
  ): Promise<void> {
    this.statusWrites.set(`${pod.namespace}/${pod.name}`, statusJson);
    if (ready) this.readyWrites.set(`${pod.namespace}/${pod.name}`, ready);
  }

  /** Kept in memory only: without a kubelet no readiness gate reads it (docs/readiness.md). */
  async writeNetworksReady(pod: PodRef, ready: NetworksReadyCondition): Promise<void> {
    this.readyWrites.set(`${pod.namespace}/${pod.name}`, ready);
  }

  async recordEvent(pod: PodRef, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    this.events.push({ pod, type, reason, message });
  }
}
