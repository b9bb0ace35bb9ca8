import { CniError } from '../cni/cni-error.ts';
import { parseMultinetConfig } from '../config/multinet-config.ts';
import type { TenantPolicy } from '../config/tenant-policy.ts';
import { findPolicyViolation } from '../engine/tenant-policy-check.ts';
import {
  defaultRoutesIn,
  definitionDefaultRouteWarning,
  strayDefaultRouteWarning,
} from '../cni/default-routes.ts';
import { EngineError } from '../engine/engine-error.ts';
import { assignInterfaceNames } from '../engine/plan-attachments.ts';
import { readManifestDocuments } from '../local/manifest-documents.ts';
import { parseNetworkConfig } from '../cni/network-config.ts';
import { findRefusedType } from '../cni/refused-plugin-types.ts';
import { refusedDelegateTypes } from '../wire/own-plugin-types.ts';
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
 * `multinet validate FILE...`: an offline check of NetworkAttachmentDefinition / Network manifests
 * and of the network annotations of pods and pod templates, with the same parsers the node uses.
 * One line per problem, `file: Kind namespace/name: field: what is wrong`; exit code 1 if any.
 *
 * Input is untrusted: files over 4 MiB are refused, YAML aliases are capped (a "billion laughs"
 * document is reported, not expanded) and YAML errors are reported per document.
 */

export interface ValidateFile {
  path: string;
  content: string;
}

export const VALIDATE_MAX_BYTES = 4 * 1024 * 1024;
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

/**
 * What the checks share across files: warnings (printed, but not failures) and the definitions
 * that install a default route (`namespace/name` → where), for the pods that select them.
 */
interface Findings {
  warnings: string[];
  defaultRoutes: Map<string, string[]>;
  policy: PolicyContext;
}

/** What the node's config adds to the check: its tenant policy and the names it reserves. */
interface PolicyContext {
  policy: TenantPolicy | undefined;
  reserved: Set<string>;
}
const NO_POLICY: PolicyContext = { policy: undefined, reserved: new Set() };

function policyContext(options: Record<string, unknown>): PolicyContext {
  const config = parseMultinetConfig({ clusterNetwork: 'unused', ...options });
  const reserved = new Set(config.tenantPolicy?.reservedNetworkNames ?? []);
  const name = config.clusterNetworkConfig?.['name'];
  if (typeof name === 'string') reserved.add(name);
  return { policy: config.tenantPolicy, reserved };
}

/**
 * With `options` (multinet's config, `--config`), NADs and pods are also checked against its
 * tenantPolicy, as ADD would check them (names in confDir are not known offline).
 */
export function runValidate(
  files: readonly ValidateFile[],
  opts: { options?: Record<string, unknown> } = {},
): { lines: string[]; exitCode: number } {
  const lines: string[] = [];
  let policy = NO_POLICY;
  if (opts.options) {
    try {
      policy = policyContext(opts.options);
    } catch (err) {
      return { lines: [`--config: ${escapeForMessage((err as Error).message, 300)}`], exitCode: 1 };
    }
  }
  // Definitions first, so a pod's warning does not depend on the order of the files.
  const findings: Findings = { warnings: [], defaultRoutes: new Map(), policy };
  const quiet: Findings = { warnings: [], defaultRoutes: findings.defaultRoutes, policy };
  for (const file of files) validateFile(file, quiet, 'definitions');
  for (const file of files) lines.push(...validateFile(file, findings, 'all'));
  const notes =
    opts.options && !policy.policy
      ? [
          "--config: no tenantPolicy: every namespace's NADs are trusted (Multus's behaviour, docs/security.md)",
        ]
      : [];
  return { lines: [...notes, ...lines, ...findings.warnings], exitCode: lines.length > 0 ? 1 : 0 };
}

function validateFile(file: ValidateFile, findings: Findings, pass: 'definitions' | 'all'): string[] {
  const path = escapeForMessage(file.path, 300);
  const bytes = Buffer.byteLength(file.content, 'utf8');
  if (bytes > VALIDATE_MAX_BYTES)
    return [`${path}: too large to check (${bytes} bytes; the limit is ${VALIDATE_MAX_BYTES})`];
  const lines: string[] = [];
  const docs = readManifestDocuments(file.content);
  docs.forEach((doc) => {
    const where = docs.length > 1 ? `${path}: document ${doc.index}` : path;
    if (doc.error !== undefined) {
      const at = doc.offset !== undefined ? position(file.content, doc.offset) : '';
      lines.push(`${where}: unreadable YAML: ${firstLine(doc.error)}${at}`);
      return;
    }
    const value = doc.value;
    if (value === null || value === undefined) return;
    lines.push(...validateObject(value, path, where, findings, pass));
  });
  return lines;
}

function validateObject(
  value: unknown,
  path: string,
  where: string,
  findings: Findings,
  pass: 'definitions' | 'all',
): string[] {
  if (!isObject(value) || typeof value.kind !== 'string' || typeof value.apiVersion !== 'string') {
    return [`${where}: not a Kubernetes object (expected a mapping with apiVersion and kind)`];
  }
  const { kind, apiVersion } = value;
  if (kind.endsWith('List') && Object.hasOwn(value, 'items')) {
    if (!Array.isArray(value.items)) return [`${where}: ${kind}: items: must be a list`];
    return value.items.flatMap((item, i) =>
      validateObject(item, path, `${where}: items[${i}]`, findings, pass),
    );
  }
  const label = `${path}: ${escapeForMessage(kind, 80)} ${objectName(value)}`;
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

function validateDefinition(
  object: Obj,
  problem: (field: string, what: string) => string,
  findings: Findings,
  warn: (field: string, what: string) => void,
): string[] {
  let def;
  try {
    def = parseNetworkDefinition(object);
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
      for (const sel of elements) {
        const subject = {
          network: `${sel.namespace}/${sel.name}`,
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
      const elements = parseNetworksAnnotation(override, namespace);
      if (elements.length !== 1)
        lines.push(problem(at(DEFAULT_NETWORK_ANNOTATION), 'must name exactly one network'));
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
  const name = typeof meta.name === 'string' ? escapeForMessage(meta.name, 120) : '(no name)';
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

function firstLine(message: string): string {
  return escapeForMessage(message.split('\n', 1)[0] ?? '', 200);
}

function position(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return ` (line ${line}, column ${column})`;
}

function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
