import type {
  ClusterView,
  NetworkObject,
  NetworksReadyCondition,
  PodInfo,
  PodRef,
} from '../../src/k8s/cluster-view.ts';
import { ClusterUnavailableError } from '../../src/k8s/cluster-view.ts';

/**
 * FAKE cluster for unit tests of the engine's orchestration only (the e2e suites use the real
 * kube-apiserver). Records status writes and events so tests can assert on them.
 */
export class FakeClusterView implements ClusterView {
  pods = new Map<string, PodInfo>();
  nads = new Map<string, NetworkObject>();
  statusWrites: { pod: PodRef; json: string; ready?: NetworksReadyCondition }[] = [];
  /** Condition-only writes (a failed ADD). */
  readyWrites: { pod: PodRef; ready: NetworksReadyCondition }[] = [];
  events: { pod: PodRef; type: string; reason: string; message: string }[] = [];
  down = false;
  failStatusWrite = false;

  addPod(pod: PodInfo): void {
    this.pods.set(`${pod.namespace}/${pod.name}`, pod);
  }

  addNad(namespace: string, name: string, config: object, annotations?: Record<string, string>): void {
    this.nads.set(`${namespace}/${name}`, {
      apiVersion: 'k8s.cni.cncf.io/v1',
      kind: 'NetworkAttachmentDefinition',
      metadata: { namespace, name, ...(annotations ? { annotations } : {}) },
      spec: { config: JSON.stringify(config) },
    });
  }

  async getPod(namespace: string, name: string): Promise<PodInfo | undefined> {
    if (this.down) throw new ClusterUnavailableError('fake API server is down');
    return this.pods.get(`${namespace}/${name}`);
  }

  async getNetworkObject(namespace: string, name: string): Promise<NetworkObject | undefined> {
    if (this.down) throw new ClusterUnavailableError('fake API server is down');
    return this.nads.get(`${namespace}/${name}`);
  }

  async writeNetworkStatus(
    pod: PodRef,
    json: string,
    _signal?: AbortSignal,
    ready?: NetworksReadyCondition,
  ): Promise<void> {
    if (this.down || this.failStatusWrite) throw new ClusterUnavailableError('fake status write refused');
    this.statusWrites.push({ pod, json, ...(ready ? { ready } : {}) });
    if (ready) this.setCondition(pod, ready);
  }

  /** As the API server (and then the daemon's pod cache) would hold it after a write. */
  private setCondition(pod: PodRef, ready: NetworksReadyCondition): void {
    const stored = this.pods.get(`${pod.namespace}/${pod.name}`);
    if (stored && (!pod.uid || stored.uid === pod.uid)) stored.networksReady = { ...ready };
  }

  async writeNetworksReady(pod: PodRef, ready: NetworksReadyCondition): Promise<void> {
    if (this.down || this.failStatusWrite) throw new ClusterUnavailableError('fake status write refused');
    this.readyWrites.push({ pod, ready });
    this.setCondition(pod, ready);
  }

  async recordEvent(pod: PodRef, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    this.events.push({ pod, type, reason, message });
  }
}
