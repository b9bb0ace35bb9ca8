import { dns1123LabelProblem } from './dns-1123.ts';
import { pluginTypeProblem } from '../names/plugin-type.ts';
import { SpecError } from './spec-error.ts';
import {
  LEGACY_NETWORK_API_VERSION,
  LEGACY_NETWORK_KIND,
  LEGACY_PLUGIN_CNI_VERSION,
  NAD_API_VERSION,
  NAD_KIND,
  RESOURCE_NAME_ANNOTATION,
} from './well-known.ts';

/**
 * A NetworkAttachmentDefinition (`k8s.cni.cncf.io/v1`, spec §3.2) or a 2018 proof-of-concept
 * `Network` (`kubernetes.cni.cncf.io/v1`, docs/annotations.md, "the 2018 Network"), reduced to what resolving it needs.
 */
export interface NetworkDefinition {
  kind: 'NetworkAttachmentDefinition' | 'Network';
  namespace: string;
  name: string;
  uid?: string;
  resourceVersion?: string;
  /** `spec.config` text as written (or synthesised from a Network's `spec.plugin`); absent = look on disk. */
  config?: string;
  /** Annotation k8s.v1.cni.cncf.io/resourceName (device-info spec §4.1). */
  resourceName?: string;
  /** Size of a `spec.config` a cache dropped as too large (OMITTED_CONFIG_BYTES); `config` is then absent. */
  omittedConfigBytes?: number;
}

/**
 * Where a cache that dropped an oversized `spec.config` records its size, so that use of the
 * definition is refused by size instead of looking for a file on disk. A symbol: no API object
 * or manifest can carry it.
 */
export const OMITTED_CONFIG_BYTES: unique symbol = Symbol('multinet.omittedConfigBytes');

/**
 * Reads a definition from a plain object (API server JSON or a YAML manifest).
 * - `metadata.namespace` missing or empty (a manifest) → `defaultNamespace`.
 * - `metadata.name` must be a DNS-1123 label: the selection annotation can reference nothing else (§3.3).
 * - `spec.config` must be a string (the spec's YAML examples quote it; a YAML mapping is a common
 *   mistake); an empty string counts as absent, as in the Go client (§3.2: "no valid keys").
 * - Network `spec.plugin` becomes `{"cniVersion":"0.3.1","name":<name>,"type":<plugin>}` as the PoC
 *   did; `config` and `plugin` together is an error there too.
 * Other `spec` keys are ignored: the API server prunes them under the structural schema anyway.
 */
export function parseNetworkDefinition(object: unknown, defaultNamespace = 'default'): NetworkDefinition {
  let subject = 'network definition';
  const fail = (key: string | undefined, value: unknown, reason: string): never => {
    throw new SpecError({ code: 'INVALID_NETWORK_DEFINITION', subject, key, value, reason });
  };
  if (!isObject(object)) return fail(undefined, undefined, 'must be an object');
  const { apiVersion, kind } = object;
  let defKind: NetworkDefinition['kind'];
  if (kind === NAD_KIND && apiVersion === NAD_API_VERSION) defKind = NAD_KIND;
  else if (kind === LEGACY_NETWORK_KIND && apiVersion === LEGACY_NETWORK_API_VERSION)
    defKind = LEGACY_NETWORK_KIND;
  else if (kind === NAD_KIND)
    return fail('apiVersion', apiVersion, `${NAD_KIND} is served as ${NAD_API_VERSION}`);
  else if (kind === LEGACY_NETWORK_KIND) {
    return fail(
      'apiVersion',
      apiVersion,
      `the 2018 ${LEGACY_NETWORK_KIND} is served as ${LEGACY_NETWORK_API_VERSION}`,
    );
  } else {
    return fail(
      'kind',
      kind,
      `expected ${NAD_KIND} (${NAD_API_VERSION}) or ${LEGACY_NETWORK_KIND} (${LEGACY_NETWORK_API_VERSION})`,
    );
  }
  subject = defKind;

  const metadata = object.metadata;
  if (!isObject(metadata)) return fail('metadata', undefined, 'missing or not an object');
  const name = metadata.name;
  if (typeof name !== 'string') return fail('metadata.name', name, 'missing or not a string');
  const namespace =
    metadata.namespace === undefined || metadata.namespace === null || metadata.namespace === ''
      ? defaultNamespace
      : metadata.namespace;
  if (typeof namespace !== 'string') return fail('metadata.namespace', namespace, 'must be a string');
  subject = `${defKind} ${namespace}/${name}`;
  const nameProblem = dns1123LabelProblem(name);
  if (nameProblem) fail('metadata.name', name, `${nameProblem} (pods can only select such names, spec §3.3)`);
  const nsProblem = dns1123LabelProblem(namespace);
  if (nsProblem) fail('metadata.namespace', namespace, nsProblem);

  const def: NetworkDefinition = { kind: defKind, namespace, name };
  for (const key of ['uid', 'resourceVersion'] as const) {
    const v = metadata[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string') fail(`metadata.${key}`, v, 'must be a string');
    else def[key] = v;
  }
  const annotations = metadata.annotations;
  if (annotations !== undefined && annotations !== null) {
    if (!isObject(annotations)) fail('metadata.annotations', undefined, 'must be an object');
    else if (Object.hasOwn(annotations, RESOURCE_NAME_ANNOTATION)) {
      const resourceName = annotations[RESOURCE_NAME_ANNOTATION];
      if (typeof resourceName !== 'string') {
        fail(`metadata.annotations.${RESOURCE_NAME_ANNOTATION}`, resourceName, 'must be a string');
      } else if (resourceName !== '') def.resourceName = resourceName;
    }
  }

  const spec = object.spec ?? {};
  if (!isObject(spec)) return fail('spec', undefined, 'must be an object');
  const config = spec.config ?? '';
  if (typeof config !== 'string') {
    fail('spec.config', undefined, 'must be a string holding JSON (quote it in YAML), not a mapping or list');
  }
  if (config !== '') def.config = config as string;
  const omitted = (object as { [OMITTED_CONFIG_BYTES]?: unknown })[OMITTED_CONFIG_BYTES];
  if (typeof omitted === 'number') def.omittedConfigBytes = omitted;
  if (defKind === LEGACY_NETWORK_KIND) {
    const plugin = spec.plugin ?? '';
    if (typeof plugin !== 'string') return fail('spec.plugin', plugin, 'must be a string');
    if (plugin !== '') {
      if (def.config !== undefined)
        fail('spec', undefined, 'set either spec.config or spec.plugin, not both');
      const problem = pluginTypeProblem(plugin);
      if (problem) fail('spec.plugin', plugin, problem);
      def.config = JSON.stringify({ cniVersion: LEGACY_PLUGIN_CNI_VERSION, name, type: plugin });
    }
  }
  return def;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
