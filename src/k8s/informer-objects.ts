import { NETWORK_STATUS_ANNOTATION } from '../spec/well-known.ts';
import type { NetworkObject, PodInfo } from './cluster-view.ts';
import { toPodInfo } from './kubernetes-cluster-view.ts';

/**
 * What the daemon's caches keep of each object: only what the engine reads, so that 1,000 NADs
 * and a node's pods fit in the daemon's memory budget (docs/daemon.md). Annotations the engine
 * never reads and that can be large are dropped.
 */
const DROPPED_ANNOTATIONS = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  // We write it; nothing reads it back, and it grows with every attachment.
  NETWORK_STATUS_ANNOTATION,
]);

function keptAnnotations(raw: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof raw !== 'object' || raw === null) return out;
  for (const [k, v] of Object.entries(raw as Record<string, unknown>))
    if (typeof v === 'string' && !DROPPED_ANNOTATIONS.has(k)) out[k] = v;
  return out;
}

export function toCachedPod(obj: Record<string, unknown>): PodInfo {
  const pod = toPodInfo(obj);
  const meta = (obj['metadata'] ?? {}) as Record<string, unknown>;
  pod.annotations = keptAnnotations(meta['annotations']);
  return pod;
}

/**
 * A NAD or legacy Network reduced to apiVersion, kind, metadata (name, namespace, uid,
 * resourceVersion, annotations) and spec. List items of some kinds omit apiVersion/kind, so the
 * informer passes the ones it listed.
 */
export function toCachedNetworkObject(
  obj: Record<string, unknown>,
  apiVersion: string,
  kind: string,
): NetworkObject {
  const meta = (obj['metadata'] ?? {}) as Record<string, unknown>;
  const metadata: Record<string, unknown> = {};
  for (const key of ['name', 'namespace', 'uid', 'resourceVersion'])
    if (meta[key] !== undefined) metadata[key] = meta[key];
  const annotations = keptAnnotations(meta['annotations']);
  if (Object.keys(annotations).length > 0) metadata['annotations'] = annotations;
  const out: NetworkObject = { apiVersion, kind, metadata };
  if (obj['spec'] !== undefined) out['spec'] = obj['spec'];
  return out;
}
