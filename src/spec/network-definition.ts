import * as v from 'valibot';
import { issuePath } from '../json/schema-issue.ts';
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
 *
 * The shape is checked by the schemas below in three steps, because the subject of a message
 * grows as the object is read: `network definition` until the kind is known, then the kind, then
 * `<kind> <namespace>/<name>`.
 */
export function parseNetworkDefinition(object: unknown, defaultNamespace = 'default'): NetworkDefinition {
  const { kind } = check(HEAD, object, 'network definition');
  const { metadata } = check(NAMES, object, kind);
  const name = metadata.name;
  const namespace = metadata.namespace || defaultNamespace;
  const subject = `${kind} ${namespace}/${name}`;
  const nameProblem = dns1123LabelProblem(name);
  if (nameProblem) {
    fail(subject, 'metadata.name', name, `${nameProblem} (pods can only select such names, spec §3.3)`);
  }
  const nsProblem = dns1123LabelProblem(namespace);
  if (nsProblem) fail(subject, 'metadata.namespace', namespace, nsProblem);

  const rest = check(kind === NAD_KIND ? NAD_REST : NETWORK_REST, object, subject);
  const { uid, resourceVersion, annotations } = rest.metadata;
  const resourceName = annotations?.[RESOURCE_NAME_ANNOTATION];
  const spec: { config?: string | null; plugin?: string | null } = rest.spec ?? {};
  const def: NetworkDefinition = { kind, namespace, name };
  if (uid != null) def.uid = uid;
  if (resourceVersion != null) def.resourceVersion = resourceVersion;
  if (resourceName) def.resourceName = resourceName;
  if (spec.config) def.config = spec.config;
  const omitted = (object as { [OMITTED_CONFIG_BYTES]?: unknown })[OMITTED_CONFIG_BYTES];
  if (typeof omitted === 'number') def.omittedConfigBytes = omitted;
  if (spec.plugin) {
    def.config = JSON.stringify({ cniVersion: LEGACY_PLUGIN_CNI_VERSION, name, type: spec.plugin });
  }
  return def;
}

const NAD_SERVED = `${NAD_KIND} is served as ${NAD_API_VERSION}`;
const NETWORK_SERVED = `the 2018 ${LEGACY_NETWORK_KIND} is served as ${LEGACY_NETWORK_API_VERSION}`;
const EXPECTED_KIND = `expected ${NAD_KIND} (${NAD_API_VERSION}) or ${LEGACY_NETWORK_KIND} (${LEGACY_NETWORK_API_VERSION})`;
const STRING = 'must be a string';

/*
 * The schemas. A message is the `reason` of the SpecError; the key is the issue's path joined
 * with "." (the wire spelling, e.g. `metadata.annotations.k8s.v1.cni.cncf.io/resourceName`) and
 * the value is the value at that path, except for the containers in QUIET, which are not echoed.
 * Only the first issue counts (abortEarly), so entries are declared in the order they are checked.
 * An optional field is v.nullish: JSON null is "not set", as in the Go client.
 */
const QUIET = new Set(['metadata', 'metadata.annotations', 'spec', 'spec.config']);

/** A JSON object (not an array) with these fields; a missing required one gets its own message. */
function record<const E extends v.ObjectEntries>(entries: E, notObject: string) {
  return v.pipe(
    v.custom<Record<string, unknown>>(isObject, notObject),
    v.object(entries, (issue) => {
      const entry: v.GenericSchema | undefined = entries[String(issue.path?.at(-1)?.key)];
      return (entry && v.safeParse(entry, undefined).issues?.[0].message) ?? notObject;
    }),
  );
}

/** The kind and its apiVersion: nothing else is read before they are known. */
const HEAD = v.pipe(
  v.custom<Record<string, unknown>>(isObject, 'must be an object'),
  v.variant(
    'kind',
    [
      v.object({ kind: v.literal(NAD_KIND), apiVersion: v.literal(NAD_API_VERSION, NAD_SERVED) }, NAD_SERVED),
      v.object(
        {
          kind: v.literal(LEGACY_NETWORK_KIND),
          apiVersion: v.literal(LEGACY_NETWORK_API_VERSION, NETWORK_SERVED),
        },
        NETWORK_SERVED,
      ),
    ],
    EXPECTED_KIND,
  ),
);

/** What names the definition in later messages. */
const NAMES = record(
  {
    metadata: record(
      { name: v.string('missing or not a string'), namespace: v.nullish(v.string(STRING)) },
      'missing or not an object',
    ),
  },
  'must be an object',
);

const optionalString = v.nullish(v.string(STRING));
const METADATA = v.object({
  uid: optionalString,
  resourceVersion: optionalString,
  annotations: v.nullish(
    record({ [RESOURCE_NAME_ANNOTATION]: v.exactOptional(v.string(STRING)) }, 'must be an object'),
  ),
});
const CONFIG = v.nullish(v.string('must be a string holding JSON (quote it in YAML), not a mapping or list'));

/** A NetworkAttachmentDefinition: `spec.config` or nothing (look on disk). */
const NAD_REST = v.object({
  metadata: METADATA,
  spec: v.nullish(record({ config: CONFIG }, 'must be an object')),
});

/** A 2018 Network: `spec.config` or `spec.plugin` (a plugin type, §3.2 of the PoC), not both. */
const NETWORK_REST = v.object({
  metadata: METADATA,
  spec: v.nullish(
    v.pipe(
      record({ config: CONFIG, plugin: optionalString }, 'must be an object'),
      v.check((spec) => !(spec.config && spec.plugin), 'set either spec.config or spec.plugin, not both'),
      v.forward(
        v.check(
          (spec) => !spec.plugin || pluginTypeProblem(spec.plugin) === undefined,
          (issue) => pluginTypeProblem(String((issue.input as { plugin: string }).plugin)) ?? '',
        ),
        ['plugin'],
      ),
    ),
  ),
});

/** Runs a schema; its first issue becomes the SpecError. */
function check<S extends v.GenericSchema>(schema: S, object: unknown, subject: string): v.InferOutput<S> {
  const checked = v.safeParse(schema, object, { abortEarly: true });
  if (checked.success) return checked.output;
  const issue = checked.issues[0];
  const key = issuePath(issue);
  const value = key === undefined || QUIET.has(key) ? undefined : issue.path?.at(-1)?.value;
  return fail(subject, key, value, issue.message);
}

function fail(subject: string, key: string | undefined, value: unknown, reason: string): never {
  throw new SpecError({ code: 'INVALID_NETWORK_DEFINITION', subject, key, value, reason });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
