import { isBlank } from './trim-space.ts';
import { LEGACY_NETWORKS_ANNOTATION, NETWORKS_ANNOTATION } from './well-known.ts';

/**
 * Picks the pod's networks annotation: `k8s.v1.cni.cncf.io/networks` (spec §4.1), else the 2018
 * proof-of-concept key `kubernetes.v1.cni.cncf.io/networks` (docs/annotations.md, "the 2018 Network"), used only when the v1
 * key is absent. A blank value means "no secondary networks", as the Go client treats an empty one;
 * a blank v1 value still hides the legacy key, so a pod can switch the old request off.
 */
export function selectNetworksAnnotation(
  annotations: Readonly<Record<string, string>>,
): { key: string; value: string } | undefined {
  for (const key of [NETWORKS_ANNOTATION, LEGACY_NETWORKS_ANNOTATION]) {
    if (!Object.hasOwn(annotations, key)) continue;
    const value = annotations[key];
    if (typeof value !== 'string' || isBlank(value)) return undefined;
    return { key, value };
  }
  return undefined;
}
