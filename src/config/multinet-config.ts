import type { TenantPolicy } from './tenant-policy.ts';
import { parseTenantPolicy } from './tenant-policy.ts';
import {
  absPath,
  bool,
  ConfigError,
  integer,
  list,
  object,
  oneOf,
  parseOptions,
  seconds,
  str,
} from './option-schema.ts';

export { ConfigError } from './option-schema.ts';

/**
 * multinet's options, split by who reads them. The engine gets `EngineOptions` only (as
 * `EngineDeps.config`); the composition roots (src/bin/, the daemon) build the adapters from
 * `AdapterOptions`. What describes one call (cniVersion, name, runtimeConfig) is no option: it
 * travels in `PodNetworkRequest`. Keys, checks, defaults and the docs/configuration.md tables all
 * come from `MULTINET_OPTIONS` below.
 */
export interface EngineOptions {
  /** The default network: a NAD name (`name` or `ns/name`), a file path, a directory, or a config name in confDir; "" = none. */
  clusterNetwork: string;
  /** The default network's config embedded inline (written by the daemon's auto-configuration). */
  clusterNetworkConfig: Record<string, unknown> | undefined;
  /** Networks attached to every pod after the default network, except in systemNamespaces. */
  defaultNetworks: string[];
  /** Directory of CNI configs for NADs without spec.config. */
  confDir: string;
  /** Directories searched for delegate plugins before CNI_PATH. */
  binDirs: string[];
  /** Namespace of clusterNetwork / defaultNetworks / per-pod default-network NADs given without a namespace. */
  multinetNamespace: string;
  systemNamespaces: string[];
  namespaceIsolation: boolean;
  globalNamespaces: string[];
  /** Optional file that must exist before ADD proceeds (the default network's readiness). */
  readinessIndicatorFile: string;
  podLookupTimeoutMs: number;
  /** Which Events to emit: every attachment, only failures, or none. */
  events: 'all' | 'warnings' | 'none';
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
  /** Root of the device-info files (device-info spec §4): `dp/` of device plugins, `cni/` ours. */
  deviceInfoDir: string;
}

/** What the adapters are built from (src/bin/engine-deps.ts, the daemon's listeners and logger). */
export interface AdapterOptions {
  /** Path to a kubeconfig; empty means "no API server" (local mode or in-cluster env). */
  kubeconfig: string;
  /** Root of multinet's caches (plan cache and delegate result cache). */
  cacheDir: string;
  /** Where the daemon listens (thick mode); the shim reads it from the same config. */
  socketPath: string;
  delegateTimeoutMs: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** The kubelet's PodResources socket, asked which devices a pod got (docs/devices.md). */
  podResourcesSocket: string;
}

export interface MultinetConfig {
  engine: EngineOptions;
  adapters: AdapterOptions;
  /** Keys of the object that are neither options nor CNI keys: the caller warns about each at start. */
  unknownKeys: string[];
}

/** The schema of multinet's options (thin plugin object, or the engine part of the daemon config). */
export const MULTINET_OPTIONS = {
  kubeconfig: absPath(
    '',
    'API server access. Empty: the in-cluster ServiceAccount when `KUBERNETES_SERVICE_HOST`/`PORT` are set, else no API server (default network and `defaultNetworks` from files only; no status written). Token, `tokenFile` (re-read when it changes) and client certificates are supported, and `tls-server-name`, and `exec` credential plugins (`client.authentication.k8s.io/v1` or `v1beta1`, tokens only, no `provideClusterInfo`: run without a shell, the token cached until its `expirationTimestamp` and fetched again after a 401); `auth-provider` plugins, `proxy-url`, basic auth and impersonation are refused by name at start rather than ignored',
  ),
  clusterNetwork: str(
    '',
    "the default network (eth0): an absolute path to a `.conf`/`.conflist` file, an absolute path to a directory (its lexicographically first config that is not multinet's own), a NetworkAttachmentDefinition (`name` in `multinetNamespace`, or `namespace/name`), or the `name` of a CNI config in `confDir`",
    { default: "— (required unless `clusterNetworkConfig`; the daemon's auto-configuration needs neither)" },
  ),
  clusterNetworkConfig: object(
    "the default network's CNI config inline (the daemon's auto-configuration writes this)",
    {},
    'must be a CNI config object',
  ),
  defaultNetworks: list(
    [],
    'networks attached to every pod after the default network (same reference forms as `clusterNetwork`), except pods in `systemNamespaces`',
  ),
  confDir: absPath(
    '/etc/cni/multinet/net.d',
    'where NADs without `spec.config` find their config (a `.conflist` whose `name` matches, then a `.conf`/`.json`); under `namespaceIsolation` or a `tenantPolicy` only for trusted namespaces or those a file lists in its `allowedNamespaces` ([security.md](security.md#files-in-confdir))',
  ),
  cacheDir: absPath(
    '/var/lib/cni/multinet',
    "plan cache (`plans/<containerID>`) and delegate result cache (`results/<network>-<containerID>-<ifname>`, libcni's layout); directories 0700, files 0600. Every component of its real path must be owned by root and writable by nobody else (a root-owned sticky parent such as `/tmp` is accepted); otherwise every call fails with code 5 naming the directory and the daemon does not start ([security.md](security.md#delegate-binaries-and-caches)). Must not be empty",
  ),
  binDirs: list(
    ['/opt/cni/bin'],
    "searched for delegate plugins before the runtime's `CNI_PATH` (whose relative entries are ignored). A plugin must resolve, after symlinks, to a regular file inside one of these directories, owned by root and not writable by group or others; `multinet` and `multinet-shim` are never delegates",
    { type: 'path list (or comma-separated string)' },
  ),
  binDir: absPath('', 'one directory instead of `binDirs`', { aliasOf: 'binDirs' }),
  multinetNamespace: str(
    'kube-system',
    'namespace of NAD references without a namespace in `clusterNetwork`, `defaultNetworks` and the per-pod default-network annotation',
  ),
  systemNamespaces: list(['kube-system'], 'pods here do not get `defaultNetworks`'),
  namespaceIsolation: bool(
    false,
    'pods may only select NADs of their own namespace or of `globalNamespaces` (the `v1.multus-cni.io/default-network` override also those of `multinetNamespace`); a violation fails the pod (NPWG §7.4). The shipped thick and OpenShift DaemonSets set it to `true`',
  ),
  globalNamespaces: list(['default'], 'namespaces any pod may select NADs from under isolation'),
  readinessIndicatorFile: absPath(
    '',
    'if set and the file does not exist, ADD fails at once with code 11 (`DEFAULT_NETWORK_UNAVAILABLE`, "try again later") and runs nothing; it does not wait (Multus polls for up to 45 s). With the daemon\'s auto-configuration, the generated file is written, and ADD served, only while it exists',
  ),
  delegateTimeoutSeconds: seconds(
    60,
    'a delegate plugin still running after this is killed and the ADD undone',
  ),
  podLookupTimeoutSeconds: seconds(
    3,
    'how long ADD retries reading the pod while the API (or the watch cache) does not show it yet. DEL never waits: it reads the pod once (the daemon confirms a cache miss with one live read) and a 404 is final',
  ),
  events: oneOf(
    ['all', 'warnings', 'none'],
    'all',
    'Kubernetes Events: `AddedInterface` per attachment and a Warning on failure; `warnings` keeps only failures (one API write less per interface)',
  ),
  logLevel: oneOf(
    ['debug', 'info', 'warn', 'error'],
    'info',
    'JSON logs: the daemon writes them to stdout (one JSON object a line, for the container log); thin mode (the per-call plugin) to stderr, since stdout carries the CNI result',
  ),
  socketPath: absPath(
    '/run/multinet/multinet.sock',
    "thick mode: the daemon's unix socket (0600; its directory 0700, owned by root)",
  ),
  podSource: oneOf(
    ['cluster', 'runtime'],
    'cluster',
    "where the pod's annotations come from: `cluster` (the API server, or local manifests) or `runtime` (the runtime's `io.kubernetes.cri.pod-annotations` capability arg, as containerd sends it), for hosts without an API server ([local-mode.md](local-mode.md))",
  ),
  parallelAttach: bool(
    false,
    "extension: attach a pod's additional networks in parallel (NPWG §7.3 requires serial processing; off by default)",
  ),
  maxNetworkConfigBytes: integer(
    64 * 1024,
    1024,
    1536 * 1024,
    'largest NAD `spec.config` (bytes) multinet uses; a pod selecting a bigger one fails ADD with code 7 naming the pod and the NAD, and the daemon does not cache it ([security.md](security.md#resource-exhaustion))',
    // 1 KiB to 1.5 MiB: etcd stores no bigger object, so a larger limit would mean none.
    { message: 'must be a whole number of bytes from 1024 to 1572864' },
  ),
  tenantPolicy: object(
    'which plugin types and host resources (masters, bridges, devices, host ports, file paths, CNI network names) NADs and pods of untrusted namespaces may use; see [security.md](security.md#tenant-policy). `{"trustedNamespaces": ["*"]}` trusts everyone; the shipped `deploy/` configs turn it on',
    { default: '— (every namespace trusted, as in Multus)' },
  ),
  podResourcesSocket: absPath(
    '/var/lib/kubelet/pod-resources/kubelet.sock',
    "the kubelet's PodResources API (gRPC `v1.PodResourcesLister`), asked once per ADD, and only when a selected NAD names a `k8s.v1.cni.cncf.io/resourceName`, which devices the pod got ([devices.md](devices.md)); never at DEL",
  ),
  deviceInfoDir: absPath(
    '/var/run/k8s.cni.cncf.io/devinfo',
    'device-info files (device-info spec §4): device plugins write `dp/<resource>-<device>-device.json`; multinet writes one file per device-backed attachment in `cni/` (0700, root only) for its delegates (`CNIDeviceInfoFile`) and removes it at DEL ([devices.md](devices.md))',
  ),
};

/**
 * Keys of a CNI plugin object that are not multinet options: the CNI spec's own, what the runtime
 * adds per call, and what the shim and auto-configuration keep beside the options.
 */
export const CNI_PLUGIN_KEYS: ReadonlySet<string> = new Set([
  'type',
  'name',
  'cniVersion',
  'capabilities',
  'runtimeConfig',
  'args',
  'prevResult',
  'cni.dev/valid-attachments',
  'shimDelDeadlineSeconds',
  'primaryConfigFile',
]);

/** What `parseMultinetConfig` requires of the object besides valid keys. */
export interface ParseOptions {
  /** The thin plugin needs a default network; the daemon's may come from auto-configuration. */
  requireDefaultNetwork?: boolean;
  /** Keys that belong to the object but are not multinet's (the daemon's own keys). */
  otherKeys?: ReadonlySet<string>;
}

/**
 * Parses multinet's options out of its CNI plugin object or daemon config. Throws ConfigError
 * naming the key; keys nobody reads are returned in `unknownKeys` (the caller warns).
 */
export function parseMultinetConfig(raw: Record<string, unknown>, opts: ParseOptions = {}): MultinetConfig {
  const known = new Set([...CNI_PLUGIN_KEYS, ...(opts.otherKeys ?? [])]);
  const { value: o, unknownKeys } = parseOptions(MULTINET_OPTIONS, raw, known);
  const engine: EngineOptions = {
    clusterNetwork: o.clusterNetwork,
    clusterNetworkConfig: o.clusterNetworkConfig,
    defaultNetworks: o.defaultNetworks,
    confDir: o.confDir,
    binDirs: o.binDir !== '' ? [o.binDir] : o.binDirs,
    multinetNamespace: o.multinetNamespace,
    systemNamespaces: o.systemNamespaces,
    namespaceIsolation: o.namespaceIsolation,
    globalNamespaces: o.globalNamespaces,
    readinessIndicatorFile: o.readinessIndicatorFile,
    podLookupTimeoutMs: Math.round(o.podLookupTimeoutSeconds * 1000),
    events: o.events,
    podSource: o.podSource,
    parallelAttach: o.parallelAttach,
    maxNetworkConfigBytes: o.maxNetworkConfigBytes,
    tenantPolicy: parseTenantPolicy(o.tenantPolicy, [
      ...new Set([o.multinetNamespace, ...o.systemNamespaces]),
    ]),
    deviceInfoDir: o.deviceInfoDir,
  };
  const adapters: AdapterOptions = {
    kubeconfig: o.kubeconfig,
    cacheDir: o.cacheDir,
    socketPath: o.socketPath,
    delegateTimeoutMs: Math.round(o.delegateTimeoutSeconds * 1000),
    logLevel: o.logLevel,
    podResourcesSocket: o.podResourcesSocket,
  };
  if (adapters.cacheDir === '') throw new ConfigError('cacheDir', 'must not be empty');
  for (const [key, value] of [
    ['podResourcesSocket', adapters.podResourcesSocket],
    ['deviceInfoDir', engine.deviceInfoDir],
  ] as const)
    if (value === '' || value === '/')
      throw new ConfigError(
        key,
        'must be an absolute path below / (the default is right on a standard node)',
      );
  if ((opts.requireDefaultNetwork ?? true) && !hasDefaultNetwork(engine))
    throw new ConfigError('clusterNetwork', 'no default network: set clusterNetwork or clusterNetworkConfig');
  return { engine, adapters, unknownKeys };
}

export function hasDefaultNetwork(
  engine: Pick<EngineOptions, 'clusterNetwork' | 'clusterNetworkConfig'>,
): boolean {
  return engine.clusterNetwork !== '' || engine.clusterNetworkConfig !== undefined;
}

/** The engine options of an empty config (the defaults): for checks that run without a config file. */
export function defaultEngineOptions(): EngineOptions {
  return parseMultinetConfig({}, { requireDefaultNetwork: false }).engine;
}

/** The warning the composition roots log for each unknown key (not fatal: a newer key, a typo). */
export function unknownKeyMessage(key: string, where: string): string {
  return `${where}: unknown key "${key}" ignored (a typo, or an option of another multinet version?)`;
}
