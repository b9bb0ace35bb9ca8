import type { PodInfo } from '../k8s/cluster-view.ts';
import { fixedDraSources, getClaim, listNodeSlices, toCachedClaim, toCachedSlice } from '../k8s/dra.ts';
import type { DraSources } from '../k8s/dra.ts';
import type { KubeRestClient } from '../k8s/kube-rest-client.ts';
import type { PodResourcesReader } from '../k8s/pod-resources.ts';
import { objectRef } from '../local/manifest-documents.ts';

/**
 * Where `multinet explain` reads a pod's devices from (docs/devices.md): the same claims and
 * ResourceSlices the daemon's caches hold, from manifests or from one read of the API server,
 * and the kubelet's PodResources API when explain runs on the pod's node.
 */

const isResourceApi = (o: Record<string, unknown>): boolean =>
  typeof o['apiVersion'] === 'string' && o['apiVersion'].startsWith('resource.k8s.io/');

const nodeOf = (o: Record<string, unknown>): unknown =>
  ((o['spec'] ?? {}) as Record<string, unknown>)['nodeName'];

/** Claims and slices among the manifests; a slice bound to another node than the pod's is left out. */
export function manifestDraSources(
  objects: readonly Record<string, unknown>[],
): (pod: PodInfo) => Promise<DraSources> {
  return async (pod) => {
    const claims = objects
      .filter((o) => o['kind'] === 'ResourceClaim' && isResourceApi(o))
      .map((o) => {
        const ref = objectRef(o);
        return { ...toCachedClaim(o), namespace: ref.namespace, name: ref.name };
      });
    const slices = objects
      .filter((o) => o['kind'] === 'ResourceSlice' && isResourceApi(o))
      .filter((o) => pod.nodeName === undefined || nodeOf(o) === undefined || nodeOf(o) === pod.nodeName)
      .map((o) => toCachedSlice(o));
    return fixedDraSources(claims, slices);
  };
}

/**
 * The pod's claims read from the API server, and its node's ResourceSlices (one LIST). A pod not
 * scheduled yet has no node and no allocated claims: no sources.
 */
export function apiDraSources(
  client: Pick<KubeRestClient, 'request'>,
): (pod: PodInfo) => Promise<DraSources | undefined> {
  return async (pod) => {
    if (!pod.nodeName) return undefined;
    const slices = await listNodeSlices(client, pod.nodeName);
    return fixedDraSources([], slices, (namespace, name, signal) =>
      getClaim(client, namespace, name, signal),
    );
  };
}

/** The kubelet's PodResources client for `--pod-resources SOCKET`. */
export async function kubeletPodResources(socketPath: string): Promise<PodResourcesReader> {
  const { KubeletPodResourcesClient } = await import('../host/kubelet-pod-resources.ts');
  return new KubeletPodResourcesClient({ socketPath });
}
