/**
 * The small ports through which the engine sees the cluster. Implemented by the Kubernetes REST
 * adapter (thin mode), the informer cache (daemon) and the local manifest directory (no cluster).
 * A reader answers `undefined` for "does not exist"; any other failure is thrown.
 */
export interface PodInfo {
  namespace: string;
  name: string;
  uid: string;
  nodeName?: string;
  annotations: Record<string, string>;
  /** The pod's NetworksReady condition as the API holds it (the daemon's pod cache keeps it). */
  networksReady?: NetworksReadyCondition;
  /**
   * The names of the pod's DRA ResourceClaims (docs/devices.md#dra-claims): those it names in
   * `spec.resourceClaims[].resourceClaimName`, and those generated for it from a template
   * (`status.resourceClaimStatuses[].resourceClaimName`). Absent when it has none.
   */
  resourceClaims?: string[];
}

/**
 * The pod condition `NetworksReady` (docs/readiness.md): True once every attachment is up, False
 * with a reason and a message naming the network while one is missing or degraded. Usable as a
 * readiness gate (`spec.readinessGates: [{conditionType: NetworksReady}]`).
 */
export interface NetworksReadyCondition {
  status: 'True' | 'False';
  reason: string;
  message: string;
  /** RFC 3339, set when `status` changes; absent = the stored one stays (strategic merge). */
  lastTransitionTime?: string;
}

/** A NetworkAttachmentDefinition or a 2018 `Network`, as a plain API object (parsed later by src/spec). */
export type NetworkObject = Record<string, unknown>;

export interface PodReader {
  getPod(namespace: string, name: string, signal?: AbortSignal): Promise<PodInfo | undefined>;
}

export interface NetworkDefinitionReader {
  /** The NetworkAttachmentDefinition `namespace/name`, else the legacy `Network` of that name. */
  getNetworkObject(namespace: string, name: string, signal?: AbortSignal): Promise<NetworkObject | undefined>;
}

export interface PodStatusWriter {
  /**
   * Sets the network-status annotation on the pod with this UID (no write to a re-created pod)
   * and, when `ready` is given, its NetworksReady condition in the same write.
   */
  writeNetworkStatus(
    pod: PodRef,
    statusJson: string,
    signal?: AbortSignal,
    ready?: NetworksReadyCondition,
  ): Promise<void>;
  /** Sets only the NetworksReady condition (an ADD that failed has no network-status to write). */
  writeNetworksReady(pod: PodRef, ready: NetworksReadyCondition, signal?: AbortSignal): Promise<void>;
}

export interface EventRecorder {
  recordEvent(pod: PodRef, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void>;
}

export interface PodRef {
  namespace: string;
  name: string;
  uid: string;
}

export type ClusterView = PodReader & NetworkDefinitionReader & PodStatusWriter & EventRecorder;

/** Thrown by adapters when the API cannot be reached or answers with a server error: retry may help. */
export class ClusterUnavailableError extends Error {
  readonly retryable = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ClusterUnavailableError';
  }
}
