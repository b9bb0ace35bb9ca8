import type { DaemonConfig } from '../config/daemon-config.ts';
import type { EngineOptions } from '../config/multinet-config.ts';
import type { DefaultNetworkState } from '../config/primary-config.ts';
import type { EngineDeps } from '../engine/engine-deps.ts';
import type { ClusterView, PodInfo } from '../k8s/cluster-view.ts';
import type { ClaimStatusWriter, DraDeviceReader } from '../k8s/dra.ts';
import type { Logger } from '../log/logger.ts';
import type { HandlerAnswer } from './handle-cni-request.ts';
import type { Readiness } from './health.ts';
import type { StageTimers } from './stage-timer.ts';

/** One watch cache as readiness and metrics see it (k8s/informer.ts). */
export interface WatchCache {
  readonly resource: string;
  readonly synced: boolean;
  /** The resource does not exist on this API server (optional caches only). */
  readonly disabled: boolean;
  readonly size: number;
}

/** What the daemon's metrics learn from the cluster adapters. */
export interface ClusterObservers {
  apiRequest(verb: string, path: string, status: number): void;
  /** A read that missed the caches and went to the API server. */
  liveRead(kind: string): void;
}

/** Where pods and networks come from: informer caches, a manifest directory, or nothing. */
export interface DaemonCluster {
  /** Undefined without an API server and a local dir: default network only, no network-status. */
  readonly view: ClusterView | undefined;
  readonly caches: readonly WatchCache[];
  /** This node's pods as cached (absent without a pod cache): what continuous CHECK compares with. */
  readonly podCache?: { readonly synced: boolean; get(namespace: string, name: string): PodInfo | undefined };
  /**
   * Calls `listener` for every pod the pod cache puts or removes (absent without a pod cache):
   * what hot-plug reacts to. Call before `start`, so the first list is seen too.
   */
  watchPods?(listener: (pod: PodInfo, deleted: boolean) => void): void;
  /** DRA claims as device sources and the claim status writer (docs/devices.md#dra-claims). */
  readonly dra?: { readonly devices: DraDeviceReader; readonly claimStatus: ClaimStatusWriter };
  /** Reads that bypass the caches (the API server itself); absent when `view` reads live already. */
  readonly live?: ClusterView;
  /**
   * Starts watching until `signal` aborts. Resolves once the first load is done (local mode;
   * the caches sync in the background), with what settles when the watching has ended.
   */
  start(signal: AbortSignal): Promise<{ stopped: Promise<unknown> }>;
  /** Sends what is still queued (events); the daemon bounds the wait. */
  flush(): Promise<void>;
  /** Closes connections, after the watching has ended. */
  close(): void;
}

/** Automatic configuration's view of the default network (host/auto-config.ts). */
export interface DefaultNetworkSource {
  state(): DefaultNetworkState;
  rescan(): Promise<void>;
  /** Watches until `signal` aborts. */
  start(signal: AbortSignal): Promise<void>;
}

/** The engine's adapters as the daemon needs them: with a close and the crash sweep. */
export type DaemonEngineDeps = EngineDeps & { close(): void; removeInterruptedWrites?(): Promise<number> };

/** The unix socket listener around the request handler (socket-server.ts). */
export interface CniListener {
  listen(): Promise<void>;
  /** Stops accepting; resolves when every open connection has closed. */
  close(): Promise<void>;
  closeAllConnections(): void;
}

/** The metrics and health listener (metrics-server.ts). */
export interface MetricsListener {
  readonly port: number;
  listen(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The daemon's adapters, made by the composition root (src/bin/daemon-main.ts). The factories
 * take what only the daemon creates (its metrics' observers, the request handler, readiness).
 */
export interface DaemonDeps {
  config: DaemonConfig;
  log: Logger;
  cluster(observe: ClusterObservers): DaemonCluster;
  /** Present when the config turns automatic configuration on. */
  autoConfig?: DefaultNetworkSource;
  buildEngineDeps(
    /** The adapters' own options come from the daemon config the composition root holds. */
    engine: EngineOptions,
    cluster: ClusterView | undefined,
    /** Delegate runs and result cache calls report into these (timed-ports.ts). */
    stages: StageTimers,
  ): DaemonEngineDeps;
  socketServer(serve: { handle(body: unknown): Promise<HandlerAnswer>; readiness(): Readiness }): CniListener;
  /** Whether a sandbox's netns still exists (continuous CHECK skips the gone ones). */
  netnsExists(path: string): Promise<boolean>;
  /** Absent when the config has no metricsAddress. */
  metricsServer?(serve: {
    readiness(): Readiness;
    metrics(): Promise<{ contentType: string; text: string }>;
  }): MetricsListener;
  /** Called once listening (tests and the bin learn the metrics port). */
  onListening?(info: { socketPath: string; metricsPort: number | undefined }): void;
}
