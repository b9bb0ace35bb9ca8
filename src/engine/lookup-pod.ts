import type { PodInfo } from '../k8s/cluster-view.ts';
import type { EngineDeps, PodNetworkRequest } from './engine-deps.ts';
import { EngineError, EngineErrorCode, describeCause } from './engine-error.ts';
import type { PodIdentity } from './pod-identity.ts';

/**
 * Reads the pod, retrying until a deadline while it is not yet visible (the API or a watch cache
 * can lag the kubelet) or while the API cannot be reached. A pod whose UID differs from the
 * runtime's K8S_POD_UID is a newer pod of the same name: we must not configure or annotate it.
 */
export async function lookupPod(
  deps: EngineDeps,
  id: PodIdentity,
  label: string,
  signal?: AbortSignal,
): Promise<PodInfo> {
  const cluster = deps.cluster;
  if (!cluster) throw new Error('lookupPod needs a cluster view');
  const deadline = deps.now() + deps.config.podLookupTimeoutMs;
  let delay = 50;
  let lastError: unknown;
  // A watch cache answers "not there" while the API server is unreachable: "not found" is only
  // believed if no read failed.
  let anyError: unknown;
  let wrongUid: string | undefined;
  for (;;) {
    try {
      const pod = await cluster.getPod(id.namespace, id.name, signal);
      lastError = undefined;
      // Manifests in local mode carry no UID: nothing to compare then.
      if (pod && (id.uid === '' || pod.uid === '' || pod.uid === id.uid)) return pod;
      wrongUid = pod?.uid;
    } catch (err) {
      lastError = err;
      anyError = err;
    }
    if (signal?.aborted || deps.now() + delay > deadline) break;
    await deps.sleep(delay, signal);
    delay = Math.min(delay * 2, 400);
  }
  const waited = `${(deps.config.podLookupTimeoutMs / 1000).toFixed(1)}s`;
  if (lastError !== undefined)
    throw new EngineError(
      {
        code: EngineErrorCode.ClusterUnavailable,
        pod: label,
        reason: `cannot read the pod from the API server for ${waited}: ${describeCause(lastError)}`,
        retryable: true,
      },
      { cause: lastError },
    );
  if (wrongUid !== undefined)
    throw new EngineError({
      code: EngineErrorCode.PodUidMismatch,
      pod: label,
      reason: `the pod was deleted and re-created: the runtime asked for UID ${id.uid}, the API has UID ${wrongUid}`,
    });
  if (anyError !== undefined)
    throw new EngineError(
      {
        code: EngineErrorCode.ClusterUnavailable,
        pod: label,
        reason: `pod not in the watch cache, and the API server cannot be read for ${waited}: ${describeCause(anyError)}`,
        retryable: true,
      },
      { cause: anyError },
    );
  throw new EngineError({
    code: EngineErrorCode.PodNotFound,
    pod: label,
    reason: `pod not found in the API server after ${waited}`,
    retryable: true,
  });
}

/**
 * The pod as DEL sees it: one read, never a wait. A DEL comes after the pod's own DEL or from the
 * runtime's sandbox GC, when the pod is usually gone; waiting for it to appear cost every
 * garbage-collected sandbox podLookupTimeoutSeconds twice. "Not found" is final. A pod of that
 * name with another UID is read once more (a watch cache may still hold the old pod; the cached
 * view answers a quick repeat with a live read); if it still differs, ours is gone. A read that
 * fails is thrown: DEL then works from what the node knows.
 */
export async function readPodForDel(
  deps: EngineDeps,
  id: PodIdentity,
  signal?: AbortSignal,
): Promise<PodInfo | undefined> {
  const cluster = deps.cluster;
  if (!cluster) return undefined;
  const matches = (pod: PodInfo | undefined) =>
    pod !== undefined && (id.uid === '' || pod.uid === '' || pod.uid === id.uid);
  const pod = await cluster.getPod(id.namespace, id.name, signal);
  if (!pod || matches(pod)) return pod;
  const again = await cluster.getPod(id.namespace, id.name, signal);
  return matches(again) ? again : undefined;
}

/** The capability arg through which containerd (and CRI-O) hand a plugin the pod's annotations. */
export const POD_ANNOTATIONS_CAPABILITY = 'io.kubernetes.cri.pod-annotations';

/**
 * The pod this call is for, from where the config says pods come from: the cluster view (with
 * lookupPod's retries for ADD, one read for DEL) or the runtime's pod-annotations capability arg. undefined when the call
 * names no pod (not a Kubernetes runtime) or nothing can provide it.
 */
export async function resolvePod(
  deps: EngineDeps,
  req: PodNetworkRequest,
  id: PodIdentity | undefined,
  label: string,
  signal?: AbortSignal,
  purpose: 'add' | 'del' = 'add',
): Promise<PodInfo | undefined> {
  if (!id) return undefined;
  if (deps.config.podSource === 'runtime') {
    const raw = req.runtimeConfig[POD_ANNOTATIONS_CAPABILITY];
    const annotations: Record<string, string> = {};
    if (raw && typeof raw === 'object' && !Array.isArray(raw))
      for (const [k, v] of Object.entries(raw)) if (typeof v === 'string') annotations[k] = v;
    return { namespace: id.namespace, name: id.name, uid: id.uid, annotations };
  }
  if (!deps.cluster) return undefined;
  return purpose === 'del' ? readPodForDel(deps, id, signal) : lookupPod(deps, id, label, signal);
}
