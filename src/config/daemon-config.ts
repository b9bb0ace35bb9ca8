import type { AdapterOptions, EngineOptions } from './multinet-config.ts';
import { hasDefaultNetwork, MULTINET_OPTIONS, parseMultinetConfig } from './multinet-config.ts';
import { absPath, bool, ConfigError, fileName, integer, parseOptions, str } from './option-schema.ts';

/**
 * The daemon's config file (`multinet daemon --config FILE`, JSON): every option of
 * MULTINET_OPTIONS (docs/configuration.md) plus the daemon's own keys, DAEMON_OPTIONS below. The
 * engine options here are the only ones the daemon uses; see docs/daemon.md "Which config wins".
 */
export interface DaemonConfig {
  /** Engine options; `clusterNetwork`/`clusterNetworkConfig` may be empty when autoConfig is on. */
  engine: EngineOptions;
  adapters: AdapterOptions;
  socketPath: string;
  /** The node whose pods are cached (field selector spec.nodeName); "" = env MULTINET_NODE_NAME. */
  nodeName: string;
  maxConcurrentRequests: number;
  /** Requests that may wait for a slot when all are busy, and how long each may wait. */
  maxQueuedRequests: number;
  queueTimeoutMs: number;
  /** host:port for /metrics, /healthz, /readyz; "" disables. Loopback only unless allowed. */
  metricsAddress: string;
  metricsAllowNonLoopback: boolean;
  /** Open connections the metrics listener accepts at once; more are closed at accept. */
  metricsMaxConnections: number;
  /**
   * Fair sharing between namespaces (docs/daemon.md "Fairness"): the requests of one pod
   * namespace in flight, and waiting, at most.
   */
  maxConcurrentRequestsPerNamespace: number;
  maxQueuedRequestsPerNamespace: number;
  shutdownTimeoutMs: number;
  /**
   * Continuous CHECK (docs/readiness.md): the period of the delegates' CHECK of every cached
   * attachment; 0 = off (the default).
   */
  checkIntervalMs: number;
  /**
   * Hot-plug (docs/hotplug.md): an edit of a running pod's networks annotation attaches and
   * detaches networks in its sandbox. Off by default; needs the pod watch (API server, node name).
   */
  hotplug: boolean;
  /**
   * DRA (docs/devices.md#dra-claims): watch ResourceClaims and this node's ResourceSlices, so an
   * attachment of a NAD naming a resource can take a device a claim of the pod was allocated.
   */
  dra: boolean;
  autoConfig: AutoConfigOptions | undefined;
  /**
   * Local mode (no Kubernetes): pods, NADs and Networks come from this directory of manifests,
   * and network-status goes to files beside them (docs/local-mode.md). "" = off.
   */
  localDir: string;
  /** Keys of the file nobody reads: the daemon warns about each at start. */
  unknownKeys: string[];
}

export interface AutoConfigOptions {
  /** Where the runtime reads configs and we write ours. */
  cniConfDir: string;
  /** Where the primary network writes its config (OpenShift: a private dir). */
  primaryConfDir: string;
  /** Our file name; it must sort before the primary's. */
  fileName: string;
  /** The `name` of the generated network list. */
  networkName: string;
  /** Use this file name in primaryConfDir instead of the first one. */
  primaryConfigName: string;
  rescanIntervalMs: number;
}

/** The daemon's own keys (the engine's are MULTINET_OPTIONS; `socketPath` is one of those). */
export const DAEMON_OPTIONS = {
  nodeName: str(
    '',
    'node whose pods are cached; empty: the `MULTINET_NODE_NAME` environment variable (set it from `spec.nodeName` in the DaemonSet); neither: pods are read live',
  ),
  maxConcurrentRequests: integer(32, 1, 4096, 'CNI calls worked on at once'),
  maxQueuedRequests: integer(
    256,
    0,
    65536,
    'calls that may wait for a slot (in arrival order); one more is answered with code 11 at once',
  ),
  maxConcurrentRequestsPerNamespace: integer(
    undefined,
    1,
    4096,
    'slots the calls of one pod namespace may hold at once ([daemon.md](daemon.md#fairness-between-namespaces))',
    { type: 'integer 1-`maxConcurrentRequests`', default: '`maxConcurrentRequests` less a quarter (24)' },
  ),
  maxQueuedRequestsPerNamespace: integer(
    undefined,
    0,
    65536,
    'queue places one pod namespace may hold; one more call of it is answered with code 11 at once',
    { type: 'integer 0-`maxQueuedRequests`', default: 'half of `maxQueuedRequests` (128)' },
  ),
  queueTimeoutSeconds: integer(30, 1, 600, 'how long a queued call waits before it is answered with code 11'),
  shutdownTimeoutSeconds: integer(
    20,
    0,
    3600,
    'on SIGTERM, how long in-flight calls may finish before they are aborted',
  ),
  checkIntervalSeconds: integer(
    0,
    0,
    86400,
    "continuous CHECK: every this many seconds the delegates' CHECK runs for every cached attachment (configs older than CNI 0.4.0 are skipped); drift sets the pod's `NetworksReady` condition to False, marks its network-status entry, records an Event and counts in `multinet_check_failures_total`. Never repairs ([readiness.md](readiness.md#continuous-check))",
    { default: '`0` (off)' },
  ),
  hotplug: bool(
    false,
    "hot-plug: an edit of a running pod's networks annotation attaches the added networks and detaches the removed ones in its sandbox, then rewrites network-status; needs the pod watch (API server and node name), not in local mode ([hotplug.md](hotplug.md))",
  ),
  dra: bool(
    true,
    "DRA claims: watch ResourceClaims (all namespaces, reduced to their allocation results) and this node's ResourceSlices, so that an attachment of a NAD naming a resource takes a device allocated to one of the pod's claims, and write the attachment into the claim's `status.devices`; off on an API server without `resource.k8s.io/v1` ([devices.md](devices.md#dra-claims))",
  ),
  metricsAddress: str(
    '127.0.0.1:9091',
    '`/metrics`, `/healthz`, `/readyz`; `""` disables; port `0` picks a free one',
    { type: '`host:port`' },
  ),
  metricsAllowNonLoopback: bool(false, 'allow a non-loopback `metricsAddress`'),
  metricsMaxConnections: integer(
    32,
    1,
    1024,
    'connections the metrics listener keeps open at once; more are closed as they are accepted (any local user can connect to it)',
  ),
  localDir: absPath(
    '',
    'local mode (no Kubernetes): pods, NADs and Networks come from this directory of manifests, and network-status goes to files beside them ([local-mode.md](local-mode.md)); `""` = off',
  ),
  autoConfig: bool(undefined, "automatic configuration from the primary network's config", {
    default: '`true` unless `clusterNetwork` or `clusterNetworkConfig` is set',
  }),
  cniConfDir: absPath('/etc/cni/net.d', 'where the runtime reads configs and the daemon writes its own'),
  primaryConfDir: absPath(
    '',
    'where the primary network writes its config (OpenShift: `/var/run/multus/cni/net.d`)',
    { default: '= `cniConfDir`' },
  ),
  primaryConfigName: fileName('', 'use this file in `primaryConfDir` instead of the lexicographically first'),
  generatedConfigName: fileName(
    '00-multinet.conflist',
    "the file written in `cniConfDir`; it must sort before the primary's",
  ),
  networkName: str('multinet-cni-network', '`name` of the generated network list'),
  rescanIntervalSeconds: integer(5, 1, 3600, 'periodic rescan of the conf dirs besides `fs.watch`'),
};

const DAEMON_KEYS: ReadonlySet<string> = new Set(Object.keys(DAEMON_OPTIONS));

/** Parses the daemon's config file text. Throws ConfigError naming the key. */
export function parseDaemonConfig(text: string): DaemonConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError('(file)', `not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new ConfigError('(file)', 'must be a JSON object');
  const obj = raw as Record<string, unknown>;
  // The engine's keys first: a bad one is named before the daemon's own are looked at.
  const { engine, adapters } = parseMultinetConfig(obj, {
    requireDefaultNetwork: false,
    otherKeys: DAEMON_KEYS,
  });
  const { value: d } = parseOptions(DAEMON_OPTIONS, obj);
  const unknownKeys = Object.keys(obj).filter(
    (k) => !DAEMON_KEYS.has(k) && !Object.hasOwn(MULTINET_OPTIONS, k),
  );
  const auto = d.autoConfig ?? !hasDefaultNetwork(engine);
  if (!auto && !hasDefaultNetwork(engine))
    throw new ConfigError('clusterNetwork', 'autoConfig is off: set clusterNetwork or clusterNetworkConfig');
  // Defaults: all but a quarter of the slots and half the queue, so that one namespace always
  // leaves some to the others while a burst of one namespace (a node reboot) keeps most of them.
  const perNamespace =
    d.maxConcurrentRequestsPerNamespace ??
    Math.max(1, d.maxConcurrentRequests - Math.floor(d.maxConcurrentRequests / 4));
  if (perNamespace > d.maxConcurrentRequests)
    throw new ConfigError(
      'maxConcurrentRequestsPerNamespace',
      `must be an integer from 1 to ${d.maxConcurrentRequests}, got ${perNamespace}`,
    );
  const queuedPerNamespace = d.maxQueuedRequestsPerNamespace ?? Math.floor(d.maxQueuedRequests / 2);
  if (queuedPerNamespace > d.maxQueuedRequests)
    throw new ConfigError(
      'maxQueuedRequestsPerNamespace',
      `must be an integer from 0 to ${d.maxQueuedRequests}, got ${queuedPerNamespace}`,
    );
  const cfg: DaemonConfig = {
    engine,
    adapters,
    socketPath: adapters.socketPath,
    nodeName: d.nodeName,
    maxConcurrentRequests: d.maxConcurrentRequests,
    maxQueuedRequests: d.maxQueuedRequests,
    queueTimeoutMs: d.queueTimeoutSeconds * 1000,
    metricsAddress: d.metricsAddress,
    metricsAllowNonLoopback: d.metricsAllowNonLoopback,
    metricsMaxConnections: d.metricsMaxConnections,
    maxConcurrentRequestsPerNamespace: perNamespace,
    maxQueuedRequestsPerNamespace: queuedPerNamespace,
    localDir: d.localDir,
    shutdownTimeoutMs: d.shutdownTimeoutSeconds * 1000,
    checkIntervalMs: d.checkIntervalSeconds * 1000,
    hotplug: d.hotplug,
    dra: d.dra,
    autoConfig: auto
      ? {
          cniConfDir: d.cniConfDir,
          primaryConfDir: d.primaryConfDir || d.cniConfDir,
          fileName: d.generatedConfigName,
          networkName: d.networkName,
          primaryConfigName: d.primaryConfigName,
          rescanIntervalMs: d.rescanIntervalSeconds * 1000,
        }
      : undefined,
    unknownKeys,
  };
  if (cfg.hotplug && cfg.localDir !== '')
    throw new ConfigError(
      'hotplug',
      'needs the API server: in local mode (localDir) no pod is watched, so no annotation edit is seen',
    );
  if (cfg.metricsAddress !== '') parseListenAddress(cfg.metricsAddress, cfg.metricsAllowNonLoopback);
  return cfg;
}

/** `host:port` (IPv6 in brackets) → parts; refuses non-loopback hosts unless allowed. */
export function parseListenAddress(
  address: string,
  allowNonLoopback: boolean,
): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(address);
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (!m || host === undefined || port > 65535)
    throw new ConfigError('metricsAddress', `must be host:port, got "${address}"`);
  const loopback = host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
  if (!loopback && !allowNonLoopback)
    throw new ConfigError(
      'metricsAddress',
      `"${address}" is not a loopback address; metrics would be readable from the network (set metricsAllowNonLoopback to allow it)`,
    );
  return { host, port };
}
