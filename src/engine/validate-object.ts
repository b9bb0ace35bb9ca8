import { CniError } from '../cni/cni-error.ts';
import {
  defaultRoutesIn,
  definitionDefaultRouteWarning,
  strayDefaultRouteWarning,
} from '../cni/default-routes.ts';
import { parseNetworkConfig } from '../cni/network-config.ts';
import { findRefusedType } from '../cni/refused-plugin-types.ts';
import type { EngineOptions } from '../config/multinet-config.ts';
import { defaultEngineOptions, parseMultinetConfig } from '../config/multinet-config.ts';
import type { TenantPolicy } from '../config/tenant-policy.ts';
import { EngineError } from './engine-error.ts';
import { namespaceIsolationProblem } from './namespace-isolation.ts';
import { networkConfigSizeProblem } from './network-config-size.ts';
import { refusedDelegateTypes } from '../wire/own-plugin-types.ts';
import { assignInterfaceNames } from './plan-attachments.ts';
import { networkNotFoundReason } from './resolve-networks.ts';
import { findPolicyViolation } from './tenant-policy-check.ts';
import type { NetworkObject } from '../k8s/cluster-view.ts';
import { parseNetworkDefinition } from '../spec/network-definition.ts';
import { parseNetworksAnnotation } from '../spec/parse-networks-annotation.ts';
import { resolveDelegateConfig } from '../spec/resolve-delegate-config.ts';
import { SpecError, escapeForMessage, quoteValue } from '../spec/spec-error.ts';
import { validateNetworkSelections } from '../spec/validate-network-selection.ts';
import {
  DEFAULT_NETWORK_ANNOTATION,
  LEGACY_NETWORK_GROUP,
  LEGACY_NETWORKS_ANNOTATION,
  NAD_KIND,
  NETWORKS_ANNOTATION,
} from '../spec/well-known.ts';

/**
 * The checks of `multinet validate` for one Kubernetes object (a NetworkAttachmentDefinition, a
 * 2018 Network, a Pod or a workload's pod template), with the parsers and bounds ADD uses. One
 * line per problem, `Kind namespace/name: field: what is wrong`. `multinet validate`
 * (src/cli/validate-command.ts) prefixes the file; the admission webhook (src/webhook/) sends the
 * same lines, and adds what only the API server knows: whether the networks a pod selects exist,
 * and what their definitions hold.
 */

/** Pod interface the runtime normally uses for the default network (kubelet passes eth0). */
const DEFAULT_INTERFACE = 'eth0';
const WORKLOAD_TEMPLATE_PATHS: Record<string, string[]> = {
  Deployment: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  Job: ['spec', 'template'],
  ReplicationController: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template'],
  PodTemplate: ['template'],
};

type Obj = Record<string, unknown>;

/** What the node's config adds to the checks: its tenant policy, isolation and bounds. */
export interface PolicyContext {
  policy: TenantPolicy | undefined;
  /** CNI network names tenants may not use (those the config names; confDir is not known here). */
  reserved: Set<string>;
  isolation: Pick<EngineOptions, 'namespaceIsolation' | 'globalNamespaces'>;
  /** Where a default-network override without a namespace is looked for (as ADD does). */
  multinetNamespace: string;
  maxNetworkConfigBytes: number;
}

const DEFAULTS = defaultEngineOptions();

/** No config: every namespace trusted, no isolation, the default bounds. */
export const NO_POLICY: PolicyContext = {
  policy: undefined,
  reserved: new Set(),
  isolation: { namespaceIsolation: false, globalNamespaces: DEFAULTS.globalNamespaces },
  multinetNamespace: DEFAULTS.multinetNamespace,
  maxNetworkConfigBytes: DEFAULTS.maxNetworkConfigBytes,
};

/** From multinet's options (daemon config, thin conflist plugin or plugin object); throws ConfigError. */
export function policyContext(options: Record<string, unknown>): PolicyContext {
  const config = parseMultinetConfig(options, { requireDefaultNetwork: false }).engine;
  const reserved = new Set(config.tenantPolicy?.reservedNetworkNames ?? []);
  const name = config.clusterNetworkConfig?.['name'];
  if (typeof name === 'string') reserved.add(name);
  return {
    policy: config.tenantPolicy,
    reserved,
    isolation: { namespaceIsolation: config.namespaceIsolation, globalNamespaces: config.globalNamespaces },
    multinetNamespace: config.multinetNamespace,
    maxNetworkConfigBytes: config.maxNetworkConfigBytes,
  };
}

/** What the API server holds for the networks a pod selects (the admission webhook's view). */
export interface ClusterFacts {
  /** `namespace/name` → its definition, or null when there is none. Keys not present are not judged. */
  networks: ReadonlyMap<string, NetworkObject | null>;
}

/**
 * What the checks share across objects: warnings (printed, but not failures) and the definitions
 * that install a default route (`namespace/name` → where), for the pods that select them.
 */
export interface Findings {
  warnings: string[];
  defaultRoutes: Map<string, string[]>;
  policy: PolicyContext;
  cluster?: ClusterFacts;
}

export type ValidatePass = 'definitions' | 'all';

/** `a: b`, or `b` alone when there is no `a` (an object from the API server has no file). */
function prefixed(prefix: string, rest: string): string {
  return prefix ? `${prefix}: ${rest}` : rest;
}

/**
 * The problems of one object. `path` names its file ("" for none), `where` its place in the file.
 * With pass "definitions" only definitions are checked (to learn their default routes).
 */
export function validateObject(
  value: unknown,
  path: string,
  where: string,
  findings: Findings,
  pass: ValidatePass,
): string[] {
  if (!isObject(value) || typeof value.kind !== 'string' || typeof value.apiVersion !== 'string') {
    return [prefixed(where, 'not a Kubernetes object (expected a mapping with apiVersion and kind)')];
  }
  const { kind, apiVersion } = value;
  if (kind.endsWith('List') && Object.hasOwn(value, 'items')) {
    if (!Array.isArray(value.items)) return [prefixed(where, `${kind}: items: must be a list`)];
    return value.items.flatMap((item, i) =>
      validateObject(item, path, prefixed(where, `items[${i}]`), findings, pass),
    );
  }
  const label = prefixed(path, `${escapeForMessage(kind, 80)} ${objectName(value)}`);
  const problem = (field: string, what: string): string => `${label}: ${field}: ${what}`;
  try {
    const warn = (field: string, what: string) =>
      findings.warnings.push(`${label}: ${field}: warning: ${what}`);
    if (kind === NAD_KIND || (kind === 'Network' && apiVersion.startsWith(`${LEGACY_NETWORK_GROUP}/`))) {
      return validateDefinition(value, problem, findings, warn);
    }
    if (pass === 'definitions') return [];
    if (kind === 'Pod' && apiVersion === 'v1')
      return validatePodMetadata(value.metadata, 'metadata', value, problem, findings, warn);
    const templatePath = WORKLOAD_TEMPLATE_PATHS[kind];
    if (templatePath) {
      const template = dig(value, templatePath);
      const field = `${templatePath.join('.')}.metadata`;
      return isObject(template)
        ? validatePodMetadata(template.metadata, field, value, problem, findings, warn)
        : [];
    }
    return [];
  } catch (err) {
    // The parsers promise SpecError only; anything else is a multinet bug, reported rather than crashing.
    return [problem('-', `internal error while checking: ${escapeForMessage(String(err))}`)];
  }
}

/**
 * The `namespace/name` of every network a Pod's annotations select (its networks annotation and
 * its default-network override), so that the webhook can look them up before the checks run.
 * An annotation that does not parse selects nothing here: the checks report it.
 */
export function selectedNetworkKeys(object: unknown, policy: PolicyContext): string[] {
  if (!isObject(object) || object.kind !== 'Pod' || !isObject(object.metadata)) return [];
  const annotations = object.metadata.annotations;
  if (!isObject(annotations)) return [];
  const keys = new Set<string>();
  const add = (value: unknown, namespace: string) => {
    if (typeof value !== 'string' || value.trim() === '') return;
    try {
      for (const e of parseNetworksAnnotation(value, namespace)) keys.add(`${e.namespace}/${e.name}`);
    } catch (err) {
      if (!(err instanceof SpecError)) throw err;
    }
  };
  const v1 = annotations[NETWORKS_ANNOTATION];
  add(typeof v1 === 'string' ? v1 : annotations[LEGACY_NETWORKS_ANNOTATION], namespaceOf(object));
  add(annotations[DEFAULT_NETWORK_ANNOTATION], policy.multinetNamespace);
  return [...keys];
}

function validateDefinition(
  object: Obj,
  problem: (field: string, what: string) => string,
  findings: Findings,
  warn: (field: string, what: string) => void,
): string[] {
  let def;
  try {
    def = parseNetworkDefinition(object);
    const tooLarge = networkConfigSizeProblem(def, findings.policy.maxNetworkConfigBytes);
    if (tooLarge) return [problem('spec.config', tooLarge)];
    if (def.config === undefined) return []; // the node's configuration directory supplies it (§3.4.1)
    const resolved = resolveDelegateConfig(def, []);
    const list = parseNetworkConfig(resolved.configText);
    const own = findRefusedType(list, refusedDelegateTypes());
    if (own)
      return [
        problem(
          `spec.config ${own.key}`,
          `${quoteValue(own.type)}: multinet's own plugin types are never delegates`,
        ),
      ];
    const routes = defaultRoutesIn(list);
    if (routes.length > 0) {
      findings.defaultRoutes.set(`${def.namespace}/${def.name}`, routes);
      warn('spec.config', definitionDefaultRouteWarning(routes));
    }
    const subject = {
      network: resolved.network,
      owner: def.namespace,
      podNamespace: undefined,
      configText: resolved.configText,
      capabilityArgs: {},
    };
    const v = findPolicyViolation(findings.policy.policy, subject, findings.policy.reserved);
    if (v) return [problem('spec.config', `the tenant policy refuses ${v.what}: ${v.rule}`)];
    return [];
  } catch (err) {
    if (err instanceof SpecError) return [problem(err.key ?? '-', valueAndReason(err))];
    // What the CNI layer would refuse when the delegate runs (network name, cniVersion, capabilities...).
    if (err instanceof CniError) return [problem('spec.config', escapeForMessage(err.message, 300))];
    throw err;
  }
}

/**
 * The definitions the API server returned for a pod's selections, checked as definitions (their
 * default routes noted for the pod's warnings): `namespace/name` → its problems.
 */
function checkSelectedDefinitions(findings: Findings): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [key, object] of findings.cluster?.networks ?? []) {
    if (object === null) continue;
    const found = validateDefinition(
      object,
      (field, what) => `${field}: ${what}`,
      findings,
      () => {},
    );
    if (found.length > 0) out.set(key, found);
  }
  return out;
}

/** What ADD would refuse of one selected network: isolation, then existence and its definition. */
function selectionProblems(
  findings: Findings,
  definitionProblems: Map<string, string[]> | undefined,
  podNamespace: string,
  networkNamespace: string,
  key: string,
  alsoAllowed: string[] = [],
): string[] {
  const isolated = namespaceIsolationProblem(
    findings.policy.isolation,
    podNamespace,
    networkNamespace,
    alsoAllowed,
  );
  if (isolated) return [`network ${key}: ${isolated}`];
  if (findings.cluster?.networks.get(key) === null) return [`network ${key}: ${networkNotFoundReason(key)}`];
  return (definitionProblems?.get(key) ?? []).map((p) => `network ${key}: ${p}`);
}

function validatePodMetadata(
  metadata: unknown,
  field: string,
  object: Obj,
  problem: (field: string, what: string) => string,
  findings: Findings,
  warn: (field: string, what: string) => void,
): string[] {
  if (!isObject(metadata)) return [];
  const annotations = metadata.annotations;
  if (annotations === undefined || annotations === null) return [];
  if (!isObject(annotations)) return [problem(`${field}.annotations`, 'must be a mapping of strings')];
  const namespace = namespaceOf(object);
  const definitionProblems = findings.cluster ? checkSelectedDefinitions(findings) : undefined;
  const lines: string[] = [];
  const at = (key: string) => `${field}.annotations["${key}"]`;
  const read = (key: string): string | undefined => {
    if (!Object.hasOwn(annotations, key)) return undefined;
    const value = annotations[key];
    if (typeof value === 'string') return value;
    lines.push(problem(at(key), 'must be a string (quote JSON values in YAML)'));
    return undefined;
  };
  const v1 = read(NETWORKS_ANNOTATION);
  const legacy = read(LEGACY_NETWORKS_ANNOTATION);
  const selected =
    v1 !== undefined
      ? [NETWORKS_ANNOTATION, v1]
      : legacy !== undefined
        ? [LEGACY_NETWORKS_ANNOTATION, legacy]
        : undefined;
  if (v1 !== undefined && legacy !== undefined && legacy.trim() !== '' && legacy !== v1) {
    lines.push(
      problem(
        at(LEGACY_NETWORKS_ANNOTATION),
        `ignored because ${NETWORKS_ANNOTATION} is set; keep one of them`,
      ),
    );
  }
  if (selected) {
    const [key, value] = selected as [string, string];
    try {
      const elements = parseNetworksAnnotation(value, namespace);
      validateNetworkSelections(elements, { defaultInterface: DEFAULT_INTERFACE });
      // The interface names ADD would give (a request colliding with a generated net<i> fails).
      assignInterfaceNames(
        DEFAULT_INTERFACE,
        '(cluster default network)',
        elements.map((selection) => ({ network: `${selection.namespace}/${selection.name}`, selection })),
        namespace,
      );
      const judged = new Set<string>();
      for (const sel of elements) {
        const network = `${sel.namespace}/${sel.name}`;
        const subject = {
          network,
          owner: undefined,
          podNamespace: namespace,
          configText: '{}',
          capabilityArgs: sel.portMappings ? { portMappings: sel.portMappings } : {},
        };
        const v = findPolicyViolation(findings.policy.policy, subject, findings.policy.reserved);
        if (v)
          lines.push(
            problem(at(key), `network ${v.network}: the tenant policy refuses ${v.what}: ${v.rule}`),
          );
        if (judged.has(network)) continue;
        judged.add(network);
        for (const p of selectionProblems(findings, definitionProblems, namespace, sel.namespace, network))
          lines.push(problem(at(key), p));
      }
      // With "default-route" on any element, ADD replaces every default route with that one.
      if (!elements.some((e) => e.defaultRoute !== undefined))
        elements.forEach((e, i) => {
          const routes = findings.defaultRoutes.get(`${e.namespace}/${e.name}`);
          if (routes)
            warn(
              at(key),
              `element ${i} (${e.namespace}/${e.name}) ${strayDefaultRouteWarning(e.interface ?? `net${i + 1}`, routes)}`,
            );
        });
    } catch (err) {
      if (err instanceof SpecError) lines.push(problem(at(key), err.detail));
      else if (err instanceof EngineError)
        lines.push(problem(at(key), err.message.replace(/^pod [^:]*: /, '')));
      else throw err;
    }
  }
  const override = read(DEFAULT_NETWORK_ANNOTATION);
  if (override !== undefined && override.trim() !== '') {
    try {
      // As ADD reads it: a name without a namespace is multinetNamespace's.
      const elements = parseNetworksAnnotation(override, findings.policy.multinetNamespace);
      const [only] = elements;
      if (elements.length !== 1 || !only)
        lines.push(problem(at(DEFAULT_NETWORK_ANNOTATION), 'must name exactly one network'));
      else
        for (const p of selectionProblems(
          findings,
          definitionProblems,
          namespace,
          only.namespace,
          `${only.namespace}/${only.name}`,
          [findings.policy.multinetNamespace],
        ))
          lines.push(problem(at(DEFAULT_NETWORK_ANNOTATION), p));
    } catch (err) {
      if (!(err instanceof SpecError)) throw err;
      lines.push(problem(at(DEFAULT_NETWORK_ANNOTATION), err.detail));
    }
  }
  return lines;
}

function valueAndReason(err: SpecError): string {
  return err.value === undefined ? err.reason : `value ${quoteValue(err.value)}: ${err.reason}`;
}

function objectName(object: Obj): string {
  const meta = isObject(object.metadata) ? object.metadata : {};
  const name =
    typeof meta.name === 'string' && meta.name !== ''
      ? escapeForMessage(meta.name, 120)
      : // A pod created with generateName has no name yet when the webhook sees it.
        typeof meta.generateName === 'string' && meta.generateName !== ''
        ? `${escapeForMessage(meta.generateName, 120)}*`
        : '(no name)';
  return `${escapeForMessage(namespaceOf(object), 80)}/${name}`;
}

/** kubectl's rule for manifests without a namespace. */
function namespaceOf(object: Obj): string {
  const meta = object.metadata;
  return isObject(meta) && typeof meta.namespace === 'string' && meta.namespace !== ''
    ? meta.namespace
    : 'default';
}

function dig(object: Obj, path: readonly string[]): unknown {
  let at: unknown = object;
  for (const key of path) at = isObject(at) && Object.hasOwn(at, key) ? at[key] : undefined;
  return at;
}

function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
