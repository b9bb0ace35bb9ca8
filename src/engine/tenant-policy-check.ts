import type { ResourceKind, TenantPolicy, TenantRule } from '../config/tenant-policy.ts';
import { isTrustedNamespace, matchesPattern } from '../config/tenant-policy.ts';

/** One delegate config to check: who wrote it, for which pod, and what the pod added to it. */
export interface PolicySubject {
  /** The network's label (`namespace/name`). */
  network: string;
  /** Namespace of the NAD whose spec.config this is; undefined for node or admin files. */
  owner: string | undefined;
  podNamespace: string | undefined;
  configText: string;
  /** Capability args the pod's selection asked for (its portMappings are the pod's host ports). */
  capabilityArgs: Record<string, unknown>;
}

export interface PolicyViolation {
  network: string;
  /** What is refused, e.g. `plugins[0] (host-device) "device" = "eth9"`. */
  what: string;
  /** Which rule refuses it, in words. */
  rule: string;
}

/** Host resources each known plugin type names, by field (absent fields: see `defaults`). */
const RESOURCE_FIELDS: Record<string, [string, ResourceKind][]> = {
  macvlan: [['master', 'masters']],
  ipvlan: [['master', 'masters']],
  vlan: [['master', 'masters']],
  bridge: [['bridge', 'bridges']],
  'host-device': [
    ['device', 'devices'],
    ['hwaddr', 'devices'],
    ['kernelpath', 'devices'],
    ['pciBusID', 'devices'],
  ],
  sriov: [['deviceID', 'devices']],
  'host-local': [
    ['dataDir', 'paths'],
    ['resolvConf', 'paths'],
  ],
  dhcp: [['daemonSocketPath', 'paths']],
};
/** What the plugin uses when the field is absent: a host resource all the same. */
const DEFAULTS: Record<string, Record<string, string>> = {
  bridge: { bridge: 'cni0' },
  // Without a master, macvlan and ipvlan take the node's default-route interface.
  macvlan: { master: '(the default-route interface)' },
  ipvlan: { master: '(the default-route interface)' },
};

function objects(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value)
    ? value.filter((p): p is Record<string, unknown> => typeof p === 'object' && p !== null)
    : [];
}

function hostPortsOf(value: unknown): number[] {
  return objects(value)
    .map((m) => m['hostPort'])
    .filter((p): p is number => typeof p === 'number');
}

function portAllowed(pattern: string, port: number): boolean {
  if (pattern === '*') return true;
  const [from, to = from] = pattern.split('-').map(Number) as [number, number?];
  return port >= from && port <= to;
}

class Checker {
  private readonly rules: TenantRule[];
  /** Which rules apply, in words: `tenantPolicy.rules[0], rules[2] (the rules for namespace "a")`. */
  private readonly applying: string;

  constructor(
    private readonly policy: TenantPolicy,
    private readonly namespace: string,
  ) {
    const indexed = policy.rules.map((r, i) => [r, i] as const);
    const applying = indexed.filter(([r]) => r.namespaces.some((p) => matchesPattern(p, namespace)));
    this.rules = applying.map(([r]) => r);
    this.applying = applying.length
      ? `tenantPolicy.rules[${applying.map(([, i]) => i).join('], rules[')}] (the rules for namespace "${namespace}")`
      : '';
  }

  typeRefusal(type: string): string | undefined {
    if (this.policy.allowedTypes.some((p) => matchesPattern(p, type))) return undefined;
    if (this.rules.some((r) => r.types.some((p) => matchesPattern(p, type)))) return undefined;
    return this.applying
      ? `type "${type}" is in neither tenantPolicy.allowedTypes nor the types of ${this.applying}`
      : `type "${type}" is not in tenantPolicy.allowedTypes, and no rule of tenantPolicy.rules names namespace "${this.namespace}"`;
  }

  resourceRefusal(kind: ResourceKind, value: string | number): string | undefined {
    const ok = this.rules.some((r) =>
      r[kind].some((p) => (typeof value === 'number' ? portAllowed(p, value) : matchesPattern(p, value))),
    );
    if (ok) return undefined;
    return this.applying
      ? `${JSON.stringify(value)} is not in the ${kind} of ${this.applying}`
      : `no rule of tenantPolicy.rules names namespace "${this.namespace}", so no ${kind} are allowed`;
  }
}

function pluginsOf(conf: Record<string, unknown>): Record<string, unknown>[] {
  return Array.isArray(conf['plugins']) ? objects(conf['plugins']) : [conf];
}

/** What a NAD written in an untrusted namespace names that the policy does not allow. */
function ownerViolation(
  policy: TenantPolicy,
  subject: PolicySubject & { owner: string },
  conf: Record<string, unknown>,
  reserved: ReadonlySet<string>,
): PolicyViolation | undefined {
  const { network } = subject;
  const name = conf['name'];
  if (typeof name === 'string' && reserved.has(name))
    return {
      network,
      what: `CNI network name "${name}"`,
      rule: 'the name of the cluster network, of a defaultNetworks network, of a file in confDir or of tenantPolicy.reservedNetworkNames is reserved to the administrator (the name keys IPAM pools and caches)',
    };
  const checker = new Checker(policy, subject.owner);
  const isList = Array.isArray(conf['plugins']);
  for (const [i, plugin] of pluginsOf(conf).entries()) {
    const where = isList ? `plugins[${i}]` : 'config';
    const delegates: [string, Record<string, unknown>][] = [[where, plugin]];
    const ipam = plugin['ipam'];
    if (typeof ipam === 'object' && ipam !== null && !Array.isArray(ipam))
      delegates.push([`${where}.ipam`, ipam as Record<string, unknown>]);
    for (const [at, obj] of delegates) {
      const type = obj['type'];
      if (typeof type !== 'string') continue;
      const refusal = checker.typeRefusal(type);
      if (refusal) return { network, what: `${at} type "${type}"`, rule: refusal };
      for (const [field, kind] of RESOURCE_FIELDS[type] ?? []) {
        const raw = obj[field] ?? DEFAULTS[type]?.[field];
        if (raw === undefined) continue;
        const value = typeof raw === 'string' ? raw : JSON.stringify(raw);
        const r = checker.resourceRefusal(kind, value);
        if (r) return { network, what: `${at} (${type}) "${field}" = ${JSON.stringify(value)}`, rule: r };
      }
      // A NAD may write the portMappings runtimeConfig itself (CNI reserves the key, plugins read it).
      const rc = obj['runtimeConfig'];
      const own =
        typeof rc === 'object' && rc !== null ? (rc as Record<string, unknown>)['portMappings'] : [];
      for (const port of hostPortsOf(own)) {
        const r = checker.resourceRefusal('hostPorts', port);
        if (r)
          return { network, what: `${at} (${type}) runtimeConfig.portMappings hostPort ${port}`, rule: r };
      }
    }
  }
  return undefined;
}

/**
 * The first thing of `subject` the tenant policy refuses, or undefined. A NAD of an untrusted
 * namespace is checked whole (every plugin of a list and every ipam: type, host resources, CNI
 * network name); a pod of an untrusted namespace is checked for the host ports it asks for.
 */
export function findPolicyViolation(
  policy: TenantPolicy | undefined,
  subject: PolicySubject,
  reservedNames: ReadonlySet<string>,
): PolicyViolation | undefined {
  if (policy === undefined) return undefined;
  let conf: Record<string, unknown>;
  try {
    conf = JSON.parse(subject.configText) as Record<string, unknown>;
  } catch {
    return undefined; // Not JSON: parsing refuses it with its own error before anything runs.
  }
  const { owner, podNamespace } = subject;
  if (owner !== undefined && !isTrustedNamespace(policy, owner)) {
    const v = ownerViolation(policy, { ...subject, owner }, conf, reservedNames);
    if (v) return v;
  }
  if (podNamespace !== undefined && !isTrustedNamespace(policy, podNamespace)) {
    const checker = new Checker(policy, podNamespace);
    for (const port of hostPortsOf(subject.capabilityArgs['portMappings'])) {
      const r = checker.resourceRefusal('hostPorts', port);
      if (r) return { network: subject.network, what: `the pod's portMappings hostPort ${port}`, rule: r };
    }
  }
  return undefined;
}
