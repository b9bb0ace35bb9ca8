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
  /**
   * When `deviceId` came from a DRA claim of the pod (docs/devices.md#dra-claims): that device,
   * so that ADD writes the attachment into the claim's status.devices and DEL takes it back.
   */
  draDevice?: { driver: string; pool: string; device: string; claimNamespace: string; claimName: string };
  /** The CNI device-info file handed to the delegates (device-info spec §4.2, §5); removed at DEL. */
  deviceInfoFile?: string;
  /**
   * What asked for this attachment, so that hot-plug (docs/hotplug.md) can tell which entry of an
   * edited annotation it is: `selectionKey()` of the annotation's element, or of the
   * default-network override on the default attachment; absent for `defaultNetworks` and the
   * configured cluster network.
   */
  selection?: string;
  /** Hot-plug wrote this attachment into the plan and its delegates' ADD has not finished. */
  pending?: true;
}

export interface AttachmentPlan {
  pod: PodIdentity | undefined;
  containerId: string;
  netns: string;
  /** CNI_ARGS passed through to every delegate, as the runtime sent them. */
  cniArgs: [string, string][];
  attachments: PlannedAttachment[];
  /**
   * Every interface name the pod's sandbox has had (hot-plug never generates one of them again).
   * Absent in plans written before hot-plug existed: hot-plug leaves those pods alone.
   */
  ifNames?: string[];
}

/** Where plans live between ADD and DEL. */
export interface PlanStore {
  get(containerId: string): Promise<AttachmentPlan | undefined>;
  put(plan: AttachmentPlan): Promise<void>;
  delete(containerId: string): Promise<void>;
  list(): Promise<string[]>;
}
