import { NETWORK_STATUS_ANNOTATION } from '../spec/well-known.ts';
import type { ClusterView, NetworkObject, NetworksReadyCondition, PodInfo, PodRef } from './cluster-view.ts';
import { ClusterUnavailableError } from './cluster-view.ts';
import type { KubeResponse, KubeRestClient } from './kube-rest-client.ts';
import type { ApiStatus } from './kube-rest-client.ts';
import { apiErrorMessage, parseApiStatus } from './kube-rest-client.ts';

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
  const ready = networksReadyOf(obj['status']);
  if (ready) info.networksReady = ready;
  const claims = resourceClaimNames(spec, obj['status']);
  if (claims.length > 0) info.resourceClaims = claims;
  return info;
}

/** More claims than a pod may have (the API allows 32); the rest are ignored. */
const MAX_POD_CLAIMS = 64;

/** The pod's ResourceClaim names: named directly in its spec, or generated for it (status). */
export function resourceClaimNames(spec: Record<string, unknown>, status: unknown): string[] {
  const out = new Set<string>();
  const take = (list: unknown) => {
    if (!Array.isArray(list)) return;
    for (const e of list as unknown[]) {
      const name = (e as { resourceClaimName?: unknown } | null)?.resourceClaimName;
      if (typeof name === 'string' && name.length > 0 && name.length <= 253 && out.size < MAX_POD_CLAIMS)
        out.add(name);
    }
  };
  take(spec['resourceClaims']);
  take((status as { resourceClaimStatuses?: unknown } | null | undefined)?.resourceClaimStatuses);
  return [...out];
}

/** Longest condition message kept from the API (ours are shorter; the cache stays small). */
const MAX_CONDITION_MESSAGE = 1024;

/** The NetworksReady condition of a pod's `status`, if it has a well-formed one. */
export function networksReadyOf(status: unknown): NetworksReadyCondition | undefined {
  const conditions = (status as { conditions?: unknown } | null | undefined)?.conditions;
  if (!Array.isArray(conditions)) return undefined;
  for (const c of conditions as Record<string, unknown>[]) {
    if (typeof c !== 'object' || c === null || c['type'] !== NETWORKS_READY_CONDITION) continue;
    if (c['status'] !== 'True' && c['status'] !== 'False') return undefined;
    const out: NetworksReadyCondition = {
      status: c['status'],
      reason: typeof c['reason'] === 'string' ? c['reason'].slice(0, 128) : '',
      message: typeof c['message'] === 'string' ? c['message'].slice(0, MAX_CONDITION_MESSAGE) : '',
    };
    if (typeof c['lastTransitionTime'] === 'string')
      out.lastTransitionTime = c['lastTransitionTime'].slice(0, 64);
    return out;
  }
  return undefined;
}

/** The pod condition type multinet owns (docs/readiness.md). */
export const NETWORKS_READY_CONDITION = 'NetworksReady';

/** The strategic-merge patch of pods/status: UID precondition, annotations, our condition. */
export function statusPatch(
  uid: string,
  annotations: Record<string, string> | undefined,
  ready: NetworksReadyCondition | undefined,
): Record<string, unknown> {
  const metadata: Record<string, unknown> = {};
  if (uid) metadata['uid'] = uid;
  if (annotations) metadata['annotations'] = annotations;
  const body: Record<string, unknown> = { metadata };
  if (ready) {
    const condition: Record<string, string> = {
      type: NETWORKS_READY_CONDITION,
      status: ready.status,
      reason: ready.reason,
      message: ready.message,
    };
    if (ready.lastTransitionTime) condition['lastTransitionTime'] = ready.lastTransitionTime;
    body['status'] = { conditions: [condition] };
  }
  return body;
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

const STATUS_WRITE_ATTEMPTS = 5;
/** Retry-After is honoured up to this: the whole ADD runs under the runtime's CNI timeout. */
const MAX_RETRY_DELAY_MS = 5_000;

/** Exponential from 200 ms with ±25 % jitter, or the server's Retry-After; capped. */
export function retryDelayMs(attempt: number, retryAfterSeconds?: number): number {
  const base =
    retryAfterSeconds !== undefined
      ? retryAfterSeconds * 1000
      : 200 * 2 ** (attempt - 1) * (0.75 + Math.random() * 0.5);
  return Math.min(base, MAX_RETRY_DELAY_MS);
}

/**
 * The API server's answer when the patch's metadata.uid is not the stored pod's: 422 Invalid with
 * a `metadata.uid` cause (the field is immutable), or 409 Conflict on a UID precondition.
 */
function isUidRefusal(status: number, st: ApiStatus): boolean {
  if (status === 422 && st.reason === 'Invalid') return st.causes.some((c) => c.field === 'metadata.uid');
  if (status === 409 && st.reason === 'Conflict') return st.causes.some((c) => c.field === 'metadata.uid');
  return false;
}

function abortableDelay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The cluster seen through live API calls (thin mode; the daemon puts watch caches in front). */
export class KubernetesClusterView implements ClusterView {
  constructor(
    private readonly client: KubeRestClient,
    private readonly opts: {
      component?: string;
      nodeName?: string;
      /** Waits between status-write retries (tests pass one that records the delays). */
      sleep?(ms: number, signal?: AbortSignal): Promise<void>;
    } = {},
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
   * One strategic-merge PATCH on pods/status carrying the annotation and, when given, the
   * NetworksReady condition: the status subresource accepts metadata annotations as well
   * (only spec, labels and ownerReferences are kept from the stored pod), so both cost one
   * request. Strategic merge matters for the condition: a JSON merge patch would replace the
   * whole `status.conditions` list, the kubelet's conditions included; strategic merge merges
   * it by `type`. The patch carries the UID: the API server refuses it (422 Invalid, cause
   * `metadata.uid`: "field is immutable") if the pod was re-created, so a new pod of the same
   * name is never annotated. 409, 429 and 5xx are retried with a jittered backoff that honours
   * Retry-After. A pod that is already gone is not an error: its sandbox is going away too.
   */
  writeNetworkStatus(
    pod: PodRef,
    statusJson: string,
    signal?: AbortSignal,
    ready?: NetworksReadyCondition,
  ): Promise<void> {
    return this.patchStatus(pod, { [NETWORK_STATUS_ANNOTATION]: statusJson }, ready, signal);
  }

  writeNetworksReady(pod: PodRef, ready: NetworksReadyCondition, signal?: AbortSignal): Promise<void> {
    return this.patchStatus(pod, undefined, ready, signal);
  }

  private async patchStatus(
    pod: PodRef,
    annotations: Record<string, string> | undefined,
    ready: NetworksReadyCondition | undefined,
    signal?: AbortSignal,
  ): Promise<void> {
    const what = `PATCH pods/status ${pod.namespace}/${pod.name}`;
    const body = statusPatch(pod.uid, annotations, ready);
    const sleep = this.opts.sleep ?? abortableDelay;
    for (let attempt = 1; ; attempt++) {
      const res = await call(what, () =>
        this.client.request(
          'PATCH',
          `/api/v1/namespaces/${enc(pod.namespace)}/pods/${enc(pod.name)}/status`,
          body,
          'application/strategic-merge-patch+json',
          signal,
        ),
      );
      if (res.status === 404) return;
      if (res.status >= 200 && res.status < 300) return;
      if (pod.uid && isUidRefusal(res.status, parseApiStatus(res)))
        throw new Error(`${what}: the pod was re-created (UID ${pod.uid} no longer exists)`);
      const retryable = res.status === 409 || res.status === 429 || res.status >= 500;
      if (retryable && attempt < STATUS_WRITE_ATTEMPTS) {
        await sleep(retryDelayMs(attempt, res.retryAfterSeconds), signal);
        continue;
      }
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
