import type { TenantPolicy } from './tenant-policy.ts';
import { parseTenantPolicy } from './tenant-policy.ts';

/**
 * multinet's own configuration: the plugin object the runtime hands us on stdin (thin mode) or the
 * daemon's config file (thick mode). Every option, with its default, is documented in
 * docs/configuration.md; keep the two in step.
 */
export interface MultinetConfig {
  name: string;
  cniVersion: string;
  /** Path to a kubeconfig; empty means "no API server" (local mode or in-cluster env). */
  kubeconfig: string;
  /** The default network: a NAD name (`name` or `ns/name`), a file path, a directory, or a config name in confDir. */
  clusterNetwork: string;
  /** The default network's config embedded inline (written by the daemon's auto-configuration). */
  clusterNetworkConfig: Record<string, unknown> | undefined;
  /** Networks attached to every pod after the default network, except in systemNamespaces. */
  defaultNetworks: string[];
  /** Directory of CNI configs for NADs without spec.config. */
  confDir: string;
  /** Root of multinet's caches (plan cache and delegate result cache). */
  cacheDir: string;
  /** Directories searched for delegate plugins before CNI_PATH. */
  binDirs: string[];
  /** Namespace of clusterNetwork / defaultNetworks / per-pod default-network NADs given without a namespace. */
  multinetNamespace: string;
  systemNamespaces: string[];
  namespaceIsolation: boolean;
  globalNamespaces: string[];
  /** Optional file that must exist before ADD proceeds (the default network's readiness). */
  readinessIndicatorFile: string;
  delegateTimeoutMs: number;
  podLookupTimeoutMs: number;
  /** Which Events to emit: every attachment, only failures, or none. */
  events: 'all' | 'warnings' | 'none';
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** Capability args the runtime sent us (`runtimeConfig`); they go to the default network only (NPWG §7.5). */
  runtimeConfig: Record<string, unknown>;
  /** Where the daemon listens (thick mode); the shim reads it from the same config. */
  socketPath: string;
  /**
   * Where the pod's annotations come from: `cluster` (the API server, or local manifests) or
   * `runtime` (the runtime's `io.kubernetes.cri.pod-annotations` capability arg, as containerd
   * sends it), for hosts without an API server.
   */
  podSource: 'cluster' | 'runtime';
  /** Extension: attach one pod's additional networks in parallel (NPWG §7.3 requires serial; off by default). */
  parallelAttach: boolean;
  /**
   * Largest NAD `spec.config` (bytes, UTF-8) multinet caches or uses; a bigger one is refused at
   * ADD naming the pod and the NAD (a tenant must not be able to grow every node's daemon).
   */
  maxNetworkConfigBytes: number;
  /** What untrusted namespaces may use (docs/security.md); undefined: every namespace is trusted. */
  tenantPolicy: TenantPolicy | undefined;
  /** The kubelet's PodResources socket, asked which devices a pod got (docs/devices.md). */
  podResourcesSocket: string;
  /** Root of the device-info files (device-info spec §4): `dp/` of device plugins, `cni/` ours. */
  deviceInfoDir: string;
}

export class ConfigError extends Error {
  readonly key: string;
  constructor(key: string, reason: string) {
    super(`multinet config: key "${key}": ${reason}`);
    this.name = 'ConfigError';
    this.key = key;
  }
}

export const DEFAULTS: MultinetConfig = {
  name: 'multinet',
  cniVersion: '1.0.0',
  kubeconfig: '',
  clusterNetwork: '',
  clusterNetworkConfig: undefined,
  defaultNetworks: [],
  confDir: '/etc/cni/multinet/net.d',
  cacheDir: '/var/lib/cni/multinet',
  binDirs: ['/opt/cni/bin'],
  multinetNamespace: 'kube-system',
  systemNamespaces: ['kube-system'],
  namespaceIsolation: false,
  globalNamespaces: ['default'],
  readinessIndicatorFile: '',
  delegateTimeoutMs: 60_000,
  podLookupTimeoutMs: 3_000,
  events: 'all',
  logLevel: 'info',
  runtimeConfig: {},
  socketPath: '/run/multinet/multinet.sock',
  podSource: 'cluster',
  parallelAttach: false,
  maxNetworkConfigBytes: 64 * 1024,
  tenantPolicy: undefined,
  podResourcesSocket: '/var/lib/kubelet/pod-resources/kubelet.sock',
  deviceInfoDir: '/var/run/k8s.cni.cncf.io/devinfo',
};

function str(raw: Record<string, unknown>, key: string, dflt: string): string {
  const v = raw[key];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'string') throw new ConfigError(key, `must be a string, got ${typeof v}`);
  return v;
}

function bool(raw: Record<string, unknown>, key: string, dflt: boolean): boolean {
  const v = raw[key];
  if (v === undefined || v === null) return dflt;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string' && /^(true|false)$/i.test(v)) return v.toLowerCase() === 'true';
  throw new ConfigError(key, 'must be a boolean');
}

function list(raw: Record<string, unknown>, key: string, dflt: string[]): string[] {
  const v = raw[key];
  if (v === undefined || v === null) return dflt;
  // Multus writes globalNamespaces as a comma-separated string; accept both shapes.
  if (typeof v === 'string')
    return v
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  if (Array.isArray(v) && v.every((s) => typeof s === 'string')) return v as string[];
  throw new ConfigError(key, 'must be a list of strings (or a comma-separated string)');
}

function seconds(raw: Record<string, unknown>, key: string, dfltMs: number): number {
  const v = raw[key];
  if (v === undefined || v === null) return dfltMs;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > 3600)
    throw new ConfigError(key, 'must be a number of seconds between 0 and 3600');
  return Math.round(v * 1000);
}

/** 1 KiB to 1.5 MiB: etcd stores no bigger object, so a larger limit would mean none. */
function byteCount(raw: Record<string, unknown>, key: string, dflt: number): number {
  const v = raw[key];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1024 || v > 1536 * 1024)
    throw new ConfigError(key, 'must be a whole number of bytes from 1024 to 1572864');
  return v;
}

function oneOf<T extends string>(
  raw: Record<string, unknown>,
  key: string,
  allowed: readonly T[],
  dflt: T,
): T {
  const v = str(raw, key, dflt);
  if (!(allowed as readonly string[]).includes(v))
    throw new ConfigError(key, `must be one of ${allowed.join(', ')}, got "${v}"`);
  return v as T;
}

function absPath(raw: Record<string, unknown>, key: string, dflt: string): string {
  const v = str(raw, key, dflt);
  if (v !== '' && (!v.startsWith('/') || v.includes('\0')))
    throw new ConfigError(key, `must be an absolute path, got "${v}"`);
  return v;
}

/** Parses multinet's options out of its CNI plugin object or daemon config; unknown keys are kept out. */
export function parseMultinetConfig(raw: Record<string, unknown>): MultinetConfig {
  const inline = raw['clusterNetworkConfig'];
  if (inline !== undefined && (typeof inline !== 'object' || inline === null || Array.isArray(inline)))
    throw new ConfigError('clusterNetworkConfig', 'must be a CNI config object');
  const runtimeConfig = raw['runtimeConfig'];
  const binDirs =
    raw['binDir'] !== undefined ? [absPath(raw, 'binDir', '')] : list(raw, 'binDirs', DEFAULTS.binDirs);
  const cfg: MultinetConfig = {
    name: str(raw, 'name', DEFAULTS.name),
    cniVersion: str(raw, 'cniVersion', DEFAULTS.cniVersion),
    kubeconfig: absPath(raw, 'kubeconfig', DEFAULTS.kubeconfig),
    clusterNetwork: str(raw, 'clusterNetwork', DEFAULTS.clusterNetwork),
    clusterNetworkConfig: inline as Record<string, unknown> | undefined,
    defaultNetworks: list(raw, 'defaultNetworks', DEFAULTS.defaultNetworks),
    confDir: absPath(raw, 'confDir', DEFAULTS.confDir),
    cacheDir: absPath(raw, 'cacheDir', DEFAULTS.cacheDir),
    binDirs,
    multinetNamespace: str(raw, 'multinetNamespace', DEFAULTS.multinetNamespace),
    systemNamespaces: list(raw, 'systemNamespaces', DEFAULTS.systemNamespaces),
    namespaceIsolation: bool(raw, 'namespaceIsolation', DEFAULTS.namespaceIsolation),
    globalNamespaces: list(raw, 'globalNamespaces', DEFAULTS.globalNamespaces),
    readinessIndicatorFile: absPath(raw, 'readinessIndicatorFile', DEFAULTS.readinessIndicatorFile),
    delegateTimeoutMs: seconds(raw, 'delegateTimeoutSeconds', DEFAULTS.delegateTimeoutMs),
    podLookupTimeoutMs: seconds(raw, 'podLookupTimeoutSeconds', DEFAULTS.podLookupTimeoutMs),
    events: oneOf(raw, 'events', ['all', 'warnings', 'none'] as const, DEFAULTS.events),
    logLevel: oneOf(raw, 'logLevel', ['debug', 'info', 'warn', 'error'] as const, DEFAULTS.logLevel),
    runtimeConfig:
      runtimeConfig && typeof runtimeConfig === 'object' && !Array.isArray(runtimeConfig)
        ? (runtimeConfig as Record<string, unknown>)
        : {},
    socketPath: absPath(raw, 'socketPath', DEFAULTS.socketPath),
    podSource: oneOf(raw, 'podSource', ['cluster', 'runtime'] as const, DEFAULTS.podSource),
    parallelAttach: bool(raw, 'parallelAttach', DEFAULTS.parallelAttach),
    maxNetworkConfigBytes: byteCount(raw, 'maxNetworkConfigBytes', DEFAULTS.maxNetworkConfigBytes),
    tenantPolicy: undefined,
    podResourcesSocket: absPath(raw, 'podResourcesSocket', DEFAULTS.podResourcesSocket),
    deviceInfoDir: absPath(raw, 'deviceInfoDir', DEFAULTS.deviceInfoDir),
  };
  cfg.tenantPolicy = parseTenantPolicy(raw['tenantPolicy'], [
    ...new Set([cfg.multinetNamespace, ...cfg.systemNamespaces]),
  ]);
  if (cfg.cacheDir === '') throw new ConfigError('cacheDir', 'must not be empty');
  for (const key of ['podResourcesSocket', 'deviceInfoDir'] as const)
    if (cfg[key] === '' || cfg[key] === '/')
      throw new ConfigError(
        key,
        'must be an absolute path below / (the default is right on a standard node)',
      );
  if (cfg.clusterNetwork === '' && cfg.clusterNetworkConfig === undefined)
    throw new ConfigError('clusterNetwork', 'no default network: set clusterNetwork or clusterNetworkConfig');
  return cfg;
}
