import { CniErrorCode } from '../cni/cni-error.ts';

/**
 * What went wrong with one pod operation, in words an administrator can act on: the pod, the
 * network (when one is to blame) and the cause. `cniCode` is the code the boundary will report.
 */
export class EngineError extends Error {
  readonly code: string;
  readonly cniCode: number;
  readonly retryable: boolean;
  readonly pod: string;
  readonly network: string | undefined;
  /** The cause alone, without the pod and network prefix of `message`. */
  readonly reason: string;

  constructor(
    init: {
      code: string;
      pod: string;
      network?: string;
      reason: string;
      cniCode?: number;
      retryable?: boolean;
    },
    options?: { cause?: unknown },
  ) {
    const where = init.network ? `pod ${init.pod}, network ${init.network}` : `pod ${init.pod}`;
    super(`${where}: ${init.reason}`, options);
    this.name = 'EngineError';
    this.code = init.code;
    this.pod = init.pod;
    this.network = init.network;
    this.reason = init.reason;
    this.retryable = init.retryable ?? false;
    this.cniCode = init.cniCode ?? (this.retryable ? CniErrorCode.TryAgainLater : CniErrorCode.Internal);
  }
}

/** Stable codes, so logs, metrics and tests can tell failures apart without parsing text. */
export const EngineErrorCode = {
  PodNotFound: 'POD_NOT_FOUND',
  PodUidMismatch: 'POD_UID_MISMATCH',
  InvalidAnnotation: 'INVALID_NETWORKS_ANNOTATION',
  NetworkNotFound: 'NETWORK_NOT_FOUND',
  NetworkForbidden: 'NETWORK_FORBIDDEN',
  PolicyForbidden: 'TENANT_POLICY_FORBIDDEN',
  InvalidNetworkConfig: 'INVALID_NETWORK_CONFIG',
  CapabilityMissing: 'CAPABILITY_MISSING',
  DefaultNetworkUnavailable: 'DEFAULT_NETWORK_UNAVAILABLE',
  DelegateFailed: 'DELEGATE_FAILED',
  ClusterUnavailable: 'CLUSTER_UNAVAILABLE',
  StatusWriteFailed: 'STATUS_WRITE_FAILED',
  RouteFailed: 'ROUTE_FAILED',
  CacheFailed: 'CACHE_FAILED',
  InvalidRequest: 'INVALID_REQUEST',
  DeleteIncomplete: 'DELETE_INCOMPLETE',
  CheckFailed: 'CHECK_FAILED',
  DeviceNotAllocated: 'DEVICE_NOT_ALLOCATED',
  DeviceLookupFailed: 'DEVICE_LOOKUP_FAILED',
  DeviceInfoFailed: 'DEVICE_INFO_FAILED',
} as const;

export function describeCause(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
