import type { PodIdentity } from './pod-identity.ts';

/**
 * Everything needed to attach and, later, detach a pod's networks, decided before any plugin runs.
 * It is cached (crash-safe, checksummed) so that DEL needs nothing else: no API server, no NAD.
 */
export interface PlannedAttachment {
  /** Status name: `namespace/name` for a NAD, the CNI config name for a file-based default network. */
  network: string;
  ifName: string;
  isDefault: boolean;
  /** The delegate configuration exactly as the delegates receive it (after cni-args injection). */
  configText: string;
  /** Capability args offered to this attachment's plugins (only declared ones are injected). */
  capabilityArgs: Record<string, unknown>;
  /** Present when the pod asked for this attachment to carry the default route (NPWG `default-route`). */
  defaultRoute?: string[];
  /** The NAD's device-plugin resource (`k8s.v1.cni.cncf.io/resourceName`), if it names one. */
  resourceName?: string;
  /**
   * The device of `resourceName` the kubelet allocated to the pod and this attachment uses, as
   * injected into `configText` and `capabilityArgs` (docs/devices.md): DEL needs no kubelet.
   */
  deviceId?: string;
  /** The CNI device-info file handed to the delegates (device-info spec §4.2, §5); removed at DEL. */
  deviceInfoFile?: string;
}

export interface AttachmentPlan {
  pod: PodIdentity | undefined;
  containerId: string;
  netns: string;
  /** CNI_ARGS passed through to every delegate, as the runtime sent them. */
  cniArgs: [string, string][];
  attachments: PlannedAttachment[];
}

/** Where plans live between ADD and DEL. */
export interface PlanStore {
  get(containerId: string): Promise<AttachmentPlan | undefined>;
  put(plan: AttachmentPlan): Promise<void>;
  delete(containerId: string): Promise<void>;
  list(): Promise<string[]>;
}
