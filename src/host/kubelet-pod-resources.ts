import {
  GET_METHOD,
  LIST_METHOD,
  PodResourcesError,
  decodeGetResponse,
  devicesOf,
  encodeGetRequest,
  findInListResponse,
  type PodDevices,
  type PodResourcesReader,
} from '../k8s/pod-resources.ts';
import { ProtobufError } from '../k8s/protobuf-wire.ts';
import { GrpcCallError, GrpcStatus, grpcUnaryCall, type UnaryCall } from './grpc-unary-call.ts';

/** Multus's bounds for this API: 10 s per call, 16 MiB per answer (pkg/kubeletclient). */
export const POD_RESOURCES_TIMEOUT_MS = 10_000;
export const POD_RESOURCES_MAX_BYTES = 16 * 1024 * 1024;

/**
 * The kubelet's PodResources API: one `Get(pod)` per question (GA in 1.36; beta and on by default
 * since 1.34). A kubelet without it (older, or with the feature gate off) answers Unimplemented,
 * or Unknown "Get method disabled"; then `List` is used, and remembered for this client's
 * lifetime, so a daemon pays the extra call once and thin mode once per CNI call.
 */
export class KubeletPodResourcesClient implements PodResourcesReader {
  private getUnavailable = false;
  private readonly call: (c: UnaryCall) => Promise<Uint8Array>;

  constructor(
    private readonly opts: {
      socketPath: string;
      timeoutMs?: number;
      maxResponseBytes?: number;
      call?: (c: UnaryCall) => Promise<Uint8Array>;
    },
  ) {
    this.call = opts.call ?? grpcUnaryCall;
  }

  async podDevices(pod: { namespace: string; name: string }, signal?: AbortSignal): Promise<PodDevices> {
    const label = `${pod.namespace}/${pod.name}`;
    try {
      if (!this.getUnavailable) {
        try {
          return devicesOf(decodeGetResponse(await this.invoke(GET_METHOD, encodeGetRequest(pod), signal)));
        } catch (err) {
          if (!isGetUnavailable(err)) throw err;
          this.getUnavailable = true;
        }
      }
      return devicesOf(findInListResponse(await this.invoke(LIST_METHOD, new Uint8Array(0), signal), pod));
    } catch (err) {
      const why =
        err instanceof ProtobufError || err instanceof GrpcCallError
          ? err.message
          : `unexpected failure: ${(err as Error).message}`;
      throw new PodResourcesError(
        `cannot read the devices of pod ${label} from the kubelet's PodResources API at ${this.opts.socketPath}: ${why}`,
        { cause: err },
      );
    }
  }

  private invoke(method: string, message: Uint8Array, signal?: AbortSignal): Promise<Uint8Array> {
    return this.call({
      socketPath: this.opts.socketPath,
      method,
      message,
      timeoutMs: this.opts.timeoutMs ?? POD_RESOURCES_TIMEOUT_MS,
      maxResponseBytes: this.opts.maxResponseBytes ?? POD_RESOURCES_MAX_BYTES,
      ...(signal ? { signal } : {}),
    });
  }
}

/** Kubelets before 1.27 lack Get (Unimplemented); 1.27-1.35 with the gate off refuse it by message. */
function isGetUnavailable(err: unknown): boolean {
  if (!(err instanceof GrpcCallError)) return false;
  if (err.status === GrpcStatus.Unimplemented) return true;
  return err.status === GrpcStatus.Unknown && /Get method disabled/i.test(err.message);
}
