import type { PolicyContext } from '../engine/validate-object.ts';
import { selectedNetworkKeys, validateObject } from '../engine/validate-object.ts';
import type { NetworkDefinitionReader, NetworkObject } from '../k8s/cluster-view.ts';
import { LEGACY_NETWORK_GROUP, LEGACY_NETWORK_KIND, NAD_GROUP, NAD_KIND } from '../spec/well-known.ts';
import type { AdmissionRequest, Verdict } from './admission-review.ts';

export interface ReviewDeps {
  /** The node's rules, from multinet's config (`multinet webhook --config`). */
  policy: PolicyContext;
  /** The NetworkAttachmentDefinitions (and 2018 Networks) the API server holds. */
  networks: NetworkDefinitionReader;
  /** A pod's first this many distinct networks are looked up; the rest are not judged. */
  maxLookups?: number;
}

/** Enough for any real pod (they select a handful); bounds the API reads one review may cause. */
export const MAX_LOOKUPS = 64;

const ALLOW: Verdict = { allowed: true, problems: [], warnings: [] };

/** Which requests are ours: pods when created, definitions when created or changed. */
function isChecked(req: AdmissionRequest): boolean {
  const { group, kind } = req.kind;
  if (group === '' && kind === 'Pod') return req.operation === 'CREATE';
  const definition =
    (group === NAD_GROUP && kind === NAD_KIND) ||
    (group === LEGACY_NETWORK_GROUP && kind === LEGACY_NETWORK_KIND);
  return definition && (req.operation === 'CREATE' || req.operation === 'UPDATE');
}

/** The object as stored: the request's namespace and name when the object does not carry them. */
function withIdentity(req: AdmissionRequest): Record<string, unknown> | undefined {
  const object = req.object;
  if (typeof object !== 'object' || object === null || Array.isArray(object)) return undefined;
  const obj = object as Record<string, unknown>;
  const meta = typeof obj['metadata'] === 'object' && obj['metadata'] !== null ? obj['metadata'] : {};
  const metadata = { ...(meta as Record<string, unknown>) };
  if (!metadata['namespace'] && req.namespace) metadata['namespace'] = req.namespace;
  if (!metadata['name'] && req.name) metadata['name'] = req.name;
  return { ...obj, metadata };
}

/**
 * The verdict on one admission request: `multinet validate`'s checks of the object, plus, for a
 * pod, whether each network it selects exists and what its definition holds (looked up through
 * `networks`). A lookup that fails throws: the server answers 500 and the API server applies the
 * webhook's failurePolicy, as for an outage.
 */
export async function reviewAdmission(
  req: AdmissionRequest,
  deps: ReviewDeps,
  signal?: AbortSignal,
): Promise<Verdict> {
  if (!isChecked(req)) return ALLOW;
  const object = withIdentity(req);
  if (!object) return ALLOW;
  const networks = new Map<string, NetworkObject | null>();
  const warnings: string[] = [];
  const keys = selectedNetworkKeys(object, deps.policy);
  const max = deps.maxLookups ?? MAX_LOOKUPS;
  for (const key of keys.slice(0, max)) {
    signal?.throwIfAborted();
    const [namespace, name] = key.split('/', 2) as [string, string];
    networks.set(key, (await deps.networks.getNetworkObject(namespace, name, signal)) ?? null);
  }
  if (keys.length > max)
    warnings.push(
      `multinet: only the first ${max} of the ${keys.length} networks this pod selects were looked up`,
    );
  const findings = { warnings, defaultRoutes: new Map(), policy: deps.policy, cluster: { networks } };
  const problems = validateObject(object, '', '', findings, 'all');
  return { allowed: problems.length === 0, problems, warnings: findings.warnings };
}
