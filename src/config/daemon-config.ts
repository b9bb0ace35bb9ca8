import type { MultinetConfig } from './multinet-config.ts';
import { ConfigError, parseMultinetConfig } from './multinet-config.ts';

/**
 * The daemon's config file (`multinet daemon --config FILE`, JSON): every engine option of
 * MultinetConfig (docs/configuration.md) plus the daemon's own keys below. The engine options
 * here are the only ones the daemon uses; see docs/daemon.md "Which config wins".
 */
export interface DaemonConfig {
  /** Engine options; `clusterNetwork`/`clusterNetworkConfig` may be empty when autoConfig is on. */
  engine: MultinetConfig;
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
  autoConfig: AutoConfigOptions | undefined;
  /**
   * Local mode (no Kubernetes): pods, NADs and Networks come from this directory of manifests,
   * and network-status goes to files beside them (docs/local-mode.md). "" = off.
   */
  localDir: string;
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

const DAEMON_DEFAULTS = {
  maxConcurrentRequests: 32,
  maxQueuedRequests: 256,
  queueTimeoutSeconds: 30,
  metricsAddress: '127.0.0.1:9091',
  metricsMaxConnections: 32,
  shutdownTimeoutSeconds: 20,
  cniConfDir: '/etc/cni/net.d',
  fileName: '00-multinet.conflist',
  networkName: 'multinet-cni-network',
  rescanIntervalSeconds: 5,
} as const;

/** Stands in for the default network while parsing, so an auto-configured daemon needs none. */
const PLACEHOLDER = { cniVersion: '1.0.0', name: 'placeholder', type: 'placeholder' };

function get<T>(raw: Record<string, unknown>, key: string, type: string, dflt: T): T {
  const v = raw[key];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== type) throw new ConfigError(key, `must be a ${type}, got ${typeof v}`);
  return v as T;
}

function path(raw: Record<string, unknown>, key: string, dflt: string): string {
  const v = get(raw, key, 'string', dflt);
  if (v !== '' && !v.startsWith('/')) throw new ConfigError(key, `must be an absolute path, got "${v}"`);
  return v;
}

function integer(raw: Record<string, unknown>, key: string, dflt: number, min: number, max: number): number {
  const v = get(raw, key, 'number', dflt);
  if (!Number.isInteger(v) || v < min || v > max)
    throw new ConfigError(key, `must be an integer from ${min} to ${max}, got ${v}`);
  return v;
}

function fileName(raw: Record<string, unknown>, key: string, dflt: string): string {
  const v = get(raw, key, 'string', dflt);
  if (v.includes('/') || v.startsWith('.'))
    throw new ConfigError(key, `must be a plain file name, got "${v}"`);
  return v;
}

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
  const hasDefault =
    (typeof obj['clusterNetwork'] === 'string' && obj['clusterNetwork'] !== '') ||
    obj['clusterNetworkConfig'] !== undefined;
  const auto = get(obj, 'autoConfig', 'boolean', !hasDefault);
  if (!auto && !hasDefault)
    throw new ConfigError('clusterNetwork', 'autoConfig is off: set clusterNetwork or clusterNetworkConfig');
  const engine = parseMultinetConfig(hasDefault ? obj : { ...obj, clusterNetworkConfig: PLACEHOLDER });
  if (!hasDefault) engine.clusterNetworkConfig = undefined;

  const cniConfDir = path(obj, 'cniConfDir', DAEMON_DEFAULTS.cniConfDir);
  const cfg: DaemonConfig = {
    engine,
    socketPath: engine.socketPath,
    nodeName: get(obj, 'nodeName', 'string', ''),
    maxConcurrentRequests: integer(
      obj,
      'maxConcurrentRequests',
      DAEMON_DEFAULTS.maxConcurrentRequests,
      1,
      4096,
    ),
    maxQueuedRequests: integer(obj, 'maxQueuedRequests', DAEMON_DEFAULTS.maxQueuedRequests, 0, 65536),
    queueTimeoutMs: integer(obj, 'queueTimeoutSeconds', DAEMON_DEFAULTS.queueTimeoutSeconds, 1, 600) * 1000,
    metricsAddress: get(obj, 'metricsAddress', 'string', DAEMON_DEFAULTS.metricsAddress),
    metricsAllowNonLoopback: get(obj, 'metricsAllowNonLoopback', 'boolean', false),
    metricsMaxConnections: integer(
      obj,
      'metricsMaxConnections',
      DAEMON_DEFAULTS.metricsMaxConnections,
      1,
      1024,
    ),
    maxConcurrentRequestsPerNamespace: 0,
    maxQueuedRequestsPerNamespace: 0,
    localDir: path(obj, 'localDir', ''),
    shutdownTimeoutMs:
      integer(obj, 'shutdownTimeoutSeconds', DAEMON_DEFAULTS.shutdownTimeoutSeconds, 0, 3600) * 1000,
    checkIntervalMs: integer(obj, 'checkIntervalSeconds', 0, 0, 86400) * 1000,
    autoConfig: auto
      ? {
          cniConfDir,
          primaryConfDir: path(obj, 'primaryConfDir', cniConfDir),
          fileName: fileName(obj, 'generatedConfigName', DAEMON_DEFAULTS.fileName),
          networkName: get(obj, 'networkName', 'string', DAEMON_DEFAULTS.networkName),
          primaryConfigName: fileName(obj, 'primaryConfigName', ''),
          rescanIntervalMs:
            integer(obj, 'rescanIntervalSeconds', DAEMON_DEFAULTS.rescanIntervalSeconds, 1, 3600) * 1000,
        }
      : undefined,
  };
  // Defaults: all but a quarter of the slots and half the queue, so that one namespace always
  // leaves some to the others while a burst of one namespace (a node reboot) keeps most of them.
  cfg.maxConcurrentRequestsPerNamespace = integer(
    obj,
    'maxConcurrentRequestsPerNamespace',
    Math.max(1, cfg.maxConcurrentRequests - Math.floor(cfg.maxConcurrentRequests / 4)),
    1,
    cfg.maxConcurrentRequests,
  );
  cfg.maxQueuedRequestsPerNamespace = integer(
    obj,
    'maxQueuedRequestsPerNamespace',
    Math.floor(cfg.maxQueuedRequests / 2),
    0,
    cfg.maxQueuedRequests,
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
