import { ConfigError } from './option-schema.ts';

/**
 * The administrator's tenant policy (docs/security.md "Tenant policy"): which plugin types and
 * which host resources the NADs (and pods) of a namespace that is not trusted may name. Every
 * list holds exact names or a prefix ending in `*` (`"vlan*"`, `"*"`).
 */
export interface TenantRule {
  namespaces: string[];
  types: string[];
  /** macvlan / ipvlan / vlan `master`. */
  masters: string[];
  /** bridge `bridge` (the plugin's default `cni0` when absent). */
  bridges: string[];
  /** host-device `device` / `hwaddr` / `kernelpath` / `pciBusID`, sriov `deviceID`. */
  devices: string[];
  /** Host ports of portMappings: `"8080"` or a range `"30000-32767"`. */
  hostPorts: string[];
  /** File paths: host-local `dataDir` / `resolvConf`, dhcp `daemonSocketPath`. */
  paths: string[];
}

export interface TenantPolicy {
  /** Namespaces whose NADs and pods are not checked (cluster admins'); `"*"` trusts every one. */
  trustedNamespaces: string[];
  /** Types any namespace may use (host resources they name still need a rule). */
  allowedTypes: string[];
  /** CNI network names no tenant may use, besides the cluster network's and defaultNetworks'. */
  reservedNetworkNames: string[];
  rules: TenantRule[];
}

export const RESOURCE_KINDS = ['masters', 'bridges', 'devices', 'hostPorts', 'paths'] as const;
export type ResourceKind = (typeof RESOURCE_KINDS)[number];

function strings(obj: Record<string, unknown>, key: string, where: string, dflt: string[] = []): string[] {
  const v = obj[key];
  if (v === undefined || v === null) return dflt;
  if (
    !Array.isArray(v) ||
    !v.every((s) => typeof s === 'string' || (key === 'hostPorts' && Number.isInteger(s)))
  )
    throw new ConfigError(`${where}.${key}`, 'must be a list of strings');
  const out = v.map(String);
  if (key === 'hostPorts')
    for (const p of out)
      if (!/^\*$|^\d{1,5}(-\d{1,5})?$/.test(p))
        throw new ConfigError(`${where}.${key}`, `"${p}" is not a port or a range "FROM-TO"`);
  return out;
}

const RULE_KEYS = new Set(['namespaces', 'types', ...RESOURCE_KINDS]);
const POLICY_KEYS = new Set(['trustedNamespaces', 'allowedTypes', 'reservedNetworkNames', 'rules']);

function object(v: unknown, where: string, known: Set<string>): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new ConfigError(where, 'must be an object');
  // A misspelt key would silently allow nothing or everything: refuse it.
  for (const k of Object.keys(v)) if (!known.has(k)) throw new ConfigError(`${where}.${k}`, 'unknown key');
  return v as Record<string, unknown>;
}

/**
 * `tenantPolicy` of multinet's config; undefined when the key is absent (every namespace is
 * trusted, as with Multus: see docs/security.md for why that is the upgrade default).
 */
export function parseTenantPolicy(raw: unknown, defaultTrusted: string[]): TenantPolicy | undefined {
  if (raw === undefined || raw === null) return undefined;
  const obj = object(raw, 'tenantPolicy', POLICY_KEYS);
  const rules = obj['rules'] ?? [];
  if (!Array.isArray(rules)) throw new ConfigError('tenantPolicy.rules', 'must be a list of rules');
  return {
    trustedNamespaces: strings(obj, 'trustedNamespaces', 'tenantPolicy', defaultTrusted),
    allowedTypes: strings(obj, 'allowedTypes', 'tenantPolicy'),
    reservedNetworkNames: strings(obj, 'reservedNetworkNames', 'tenantPolicy'),
    rules: rules.map((r, i) => {
      const where = `tenantPolicy.rules[${i}]`;
      const rule = object(r, where, RULE_KEYS);
      return {
        namespaces: strings(rule, 'namespaces', where),
        types: strings(rule, 'types', where),
        masters: strings(rule, 'masters', where),
        bridges: strings(rule, 'bridges', where),
        devices: strings(rule, 'devices', where),
        hostPorts: strings(rule, 'hostPorts', where),
        paths: strings(rule, 'paths', where),
      };
    }),
  };
}

/** An exact name, or a prefix pattern ending in `*`. */
export function matchesPattern(pattern: string, value: string): boolean {
  return pattern.endsWith('*') ? value.startsWith(pattern.slice(0, -1)) : pattern === value;
}

export function isTrustedNamespace(policy: TenantPolicy | undefined, namespace: string): boolean {
  return policy === undefined || policy.trustedNamespaces.some((p) => matchesPattern(p, namespace));
}
