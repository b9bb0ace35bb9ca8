import { ELIDED_STRING_PREFIX } from './list-item-splitter.ts';
import { OMITTED_CONFIG_BYTES } from '../spec/network-definition.ts';
import { NETWORK_STATUS_ANNOTATION, RESOURCE_NAME_ANNOTATION } from '../spec/well-known.ts';
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
 * A NAD or legacy Network reduced to what resolving it reads: apiVersion, kind, metadata (name,
 * namespace, uid, resourceVersion, the resourceName annotation) and `spec.config` (or a Network's
 * `spec.plugin`). A config over `maxConfigBytes` is not kept: its size is recorded under
 * OMITTED_CONFIG_BYTES and the engine refuses the definition by size when a pod uses it. So a
 * cached definition costs at most about `maxConfigBytes`, whatever the tenant wrote (managedFields,
 * other annotations and spec keys are dropped). List items of some kinds omit apiVersion/kind,
 * so the informer passes the ones it listed.
 */
export function toCachedNetworkObject(
  obj: Record<string, unknown>,
  apiVersion: string,
  kind: string,
  maxConfigBytes: number,
): NetworkObject {
  const meta = (obj['metadata'] ?? {}) as Record<string, unknown>;
  const metadata: Record<string, unknown> = {};
  for (const key of ['name', 'namespace', 'uid', 'resourceVersion'])
    if (typeof meta[key] === 'string' && (meta[key] as string).length <= 512) metadata[key] = meta[key];
  const raw = meta['annotations'];
  const resourceName =
    typeof raw === 'object' && raw !== null
      ? (raw as Record<string, unknown>)[RESOURCE_NAME_ANNOTATION]
      : undefined;
  if (resourceName !== undefined)
    metadata['annotations'] = {
      [RESOURCE_NAME_ANNOTATION]:
        typeof resourceName === 'string' && resourceName.length <= 512 ? resourceName : {},
    };
  const out: NetworkObject = { apiVersion, kind, metadata };
  const spec = obj['spec'];
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
    // Not an object: parseNetworkDefinition reports it; the stand-in keeps that error, not the value.
    if (spec !== undefined && spec !== null) out['spec'] = [];
    return out;
  }
  const kept: Record<string, unknown> = {};
  let omitted = 0;
  for (const key of ['config', 'plugin']) {
    const v = (spec as Record<string, unknown>)[key];
    if (v === undefined || v === null) continue;
    // A non-string is an error at use; a small stand-in of the same kind keeps that error.
    if (typeof v !== 'string') kept[key] = {};
    else if (v.startsWith(ELIDED_STRING_PREFIX)) omitted += Number(v.slice(ELIDED_STRING_PREFIX.length)) || 1;
    else if (Buffer.byteLength(v, 'utf8') > maxConfigBytes) omitted += Buffer.byteLength(v, 'utf8');
    else kept[key] = v;
  }
  out['spec'] = kept;
  if (omitted > 0) (out as { [OMITTED_CONFIG_BYTES]?: number })[OMITTED_CONFIG_BYTES] = omitted;
  return out;
}
