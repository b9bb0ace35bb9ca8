import { NETWORK_STATUS_ANNOTATION } from '../spec/well-known.ts';
import type { ClusterView, NetworkObject, PodInfo, PodRef } from './cluster-view.ts';
import { ClusterUnavailableError } from './cluster-view.ts';
import type { KubeResponse, KubeRestClient } from './kube-rest-client.ts';
import { apiErrorMessage } from './kube-rest-client.ts';

const enc = encodeURIComponent;

export function nadPath(namespace: string, name = ''): string {
  return `/apis/k8s.cni.cncf.io/v1/namespaces/${enc(namespace)}/network-attachment-definitions${name ? `/${enc(name)}` : ''}`;
}

export function legacyNetworkPath(namespace: string, name = ''): string {
  return `/apis/kubernetes.cni.cncf.io/v1/namespaces/${enc(namespace)}/networks${name ? `/${enc(name)}` : ''}`;
}

export function toPodInfo(obj: Record<string, unknown>): PodInfo {
  const meta = (obj['metadata'] ?? {}) as Record<string, unknown>;
  const spec = (obj['spec'] ?? {}) as Record<string, unknown>;
  const annotations = (meta['annotations'] ?? {}) as Record<string, string>;
  const info: PodInfo = {
    namespace: String(meta['namespace'] ?? ''),
    name: String(meta['name'] ?? ''),
    uid: String(meta['uid'] ?? ''),
    annotations,
  };
  if (typeof spec['nodeName'] === 'string') info.nodeName = spec['nodeName'];
  return info;
}

/** Answers 404 as "absent", other failures as ClusterUnavailableError (retry may help) or Error. */
function check(res: KubeResponse, what: string): Record<string, unknown> | undefined {
  if (res.status === 404) return undefined;
  if (res.status >= 200 && res.status < 300) return JSON.parse(res.body) as Record<string, unknown>;
  const msg = `${what}: ${apiErrorMessage(res)}`;
  if (res.status >= 500 || res.status === 429) throw new ClusterUnavailableError(msg);
  throw new Error(msg);
}

async function call<T>(what: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    if (err instanceof ClusterUnavailableError || !(err instanceof Error) || !('code' in err)) throw err;
    throw new ClusterUnavailableError(`${what}: ${err.message}`, { cause: err });
  }
}

/** The cluster seen through live API calls (thin mode; the daemon puts watch caches in front). */
export class KubernetesClusterView implements ClusterView {
  constructor(
    private readonly client: KubeRestClient,
    private readonly opts: { component?: string; nodeName?: string } = {},
  ) {}

  async getPod(namespace: string, name: string, signal?: AbortSignal): Promise<PodInfo | undefined> {
    const what = `GET pod ${namespace}/${name}`;
    const res = await call(what, () =>
      this.client.request(
        'GET',
        `/api/v1/namespaces/${enc(namespace)}/pods/${enc(name)}`,
        undefined,
        undefined,
        signal,
      ),
    );
    const obj = check(res, what);
    return obj ? toPodInfo(obj) : undefined;
  }

  async getNetworkObject(
    namespace: string,
    name: string,
    signal?: AbortSignal,
  ): Promise<NetworkObject | undefined> {
    const what = `GET NetworkAttachmentDefinition ${namespace}/${name}`;
    const res = await call(what, () =>
      this.client.request('GET', nadPath(namespace, name), undefined, undefined, signal),
    );
    const nad = check(res, what);
    if (nad) return nad;
    // The 2018 kind: a 404 also covers "the legacy CRD is not installed".
    const legacy = await call(what, () =>
      this.client.request('GET', legacyNetworkPath(namespace, name), undefined, undefined, signal),
    );
    return check(legacy, `GET Network ${namespace}/${name}`);
  }

  /**
   * One merge PATCH on pods/status. The patch carries the UID: the API server refuses it (422,
   * "metadata.uid: field is immutable") if the pod was re-created, so a new pod of the same name
   * is never annotated. Conflicts (409) are retried. A pod that is already gone is not an error: its sandbox is going away too.
   */
  async writeNetworkStatus(pod: PodRef, statusJson: string, signal?: AbortSignal): Promise<void> {
    const what = `PATCH pods/status ${pod.namespace}/${pod.name}`;
    const body = { metadata: { uid: pod.uid, annotations: { [NETWORK_STATUS_ANNOTATION]: statusJson } } };
    if (!pod.uid) delete (body.metadata as { uid?: string }).uid;
    for (let attempt = 0; ; attempt++) {
      const res = await call(what, () =>
        this.client.request(
          'PATCH',
          `/api/v1/namespaces/${enc(pod.namespace)}/pods/${enc(pod.name)}/status`,
          body,
          'application/merge-patch+json',
          signal,
        ),
      );
      if (res.status === 404) return;
      if ((res.status === 422 || res.status === 409) && /metadata\.uid|uid/i.test(res.body))
        throw new Error(`${what}: the pod was re-created (UID ${pod.uid} no longer exists)`);
      if (res.status === 409 && attempt < 5) continue;
      check(res, what);
      return;
    }
  }

  async recordEvent(pod: PodRef, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const now = new Date().toISOString();
    const component = this.opts.component ?? 'multinet';
    const event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { generateName: `${pod.name}.`, namespace: pod.namespace },
      involvedObject: {
        apiVersion: 'v1',
        kind: 'Pod',
        namespace: pod.namespace,
        name: pod.name,
        uid: pod.uid,
      },
      reason,
      message,
      type,
      source: { component, ...(this.opts.nodeName ? { host: this.opts.nodeName } : {}) },
      reportingComponent: component,
      reportingInstance: this.opts.nodeName ?? component,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    const res = await this.client.request('POST', `/api/v1/namespaces/${enc(pod.namespace)}/events`, event);
    if (res.status >= 300) throw new Error(`POST event: ${apiErrorMessage(res)}`);
  }
}
