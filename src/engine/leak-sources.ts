import type { ResultCacheRecord } from '../cni/result-cache.ts';
import type { PlanStore } from './attachment-plan.ts';
import type { HostLocalStore } from './host-local-stores.ts';
import type { PodIdentity } from './pod-identity.ts';

/** What can be told about a sandbox's network namespace from its recorded path. */
export type NetnsState =
  | { state: 'present' }
  | { state: 'gone'; why: string }
  /** Neither: gc then never calls the sandbox leaked on the netns alone. */
  | { state: 'unknown'; why: string };

/** One host-local reservation file: `<dataDir>/<network>/<ip>`. */
export interface HostLocalReservation {
  store: HostLocalStore;
  ip: string;
  /** "" when the file could not be read or names no valid container ID. */
  containerId: string;
  /** "" in files written by host-local before 0.8.6 (container ID only) or unreadable ones. */
  ifName: string;
  /** The file's modification time: when host-local reserved the address. */
  reservedAtMs: number;
  /** Why the file could not be used, when it could not. */
  problem?: string;
}

/**
 * The ports `multinet gc` reads the node through. Each reader answers what exists; a reader
 * that fails throws, and the scan then says "unknown" for what it would have decided.
 */
export interface LeakSources {
  plans: Pick<PlanStore, 'list' | 'get'>;
  /** multinet's own result cache (`<cacheDir>/results`), every container. */
  results(): Promise<ResultCacheRecord[]>;
  /** The runtime's libcni result cache (`/var/lib/cni/results`): sandboxes attached without multinet. */
  runtimeResults(): Promise<ResultCacheRecord[]>;
  reservations(store: HostLocalStore): Promise<HostLocalReservation[]>;
  probeNetns(path: string): Promise<NetnsState>;
  /** The API server's answer for a pod: false when it is gone (not found, or another UID). Absent: no API. */
  podExists?(pod: PodIdentity): Promise<boolean>;
  /** The configs multinet uses now (default network, defaultNetworks): their stores are scanned too. */
  staticNetworks(): Promise<{ network: string; configText: string }[]>;
  /** When the node last booted (ms since the epoch); no sandbox outlives a reboot. */
  bootTimeMs: number | undefined;
}
