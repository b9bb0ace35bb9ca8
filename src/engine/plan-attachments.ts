import type { NetworkSelectionElement } from '../spec/network-selection-element.ts';
import type { AttachmentPlan, PlannedAttachment } from './attachment-plan.ts';
import { EngineError, EngineErrorCode } from './engine-error.ts';
import { injectSelection } from './inject-selection.ts';
import type { PodIdentity } from './pod-identity.ts';
import { podLabel } from './pod-identity.ts';
import { selectionKey } from './selection-key.ts';

/** A network already resolved to its delegate configuration, in attachment order. */
export interface ResolvedNetwork {
  network: string;
  configText: string;
  /** Namespace of the NAD whose spec.config this is (tenant-writable); unset for node/admin files. */
  owner?: string;
  /**
   * Set for networks requested in the pod's annotation, and for the default network when the
   * pod's default-network annotation chose it (the plan records it, for hot-plug).
   */
  selection?: NetworkSelectionElement;
  /** The NAD's `k8s.v1.cni.cncf.io/resourceName` (a device-plugin resource), validated. */
  resourceName?: string;
}

export interface PlanInput {
  pod: PodIdentity | undefined;
  containerId: string;
  netns: string;
  /** CNI_IFNAME from the runtime: the default network's interface (normally eth0). */
  runtimeIfName: string;
  cniArgs: [string, string][];
  /** The runtime's own capability args: they go to the default network only (NPWG v1.1 §7.5). */
  runtimeCapabilityArgs: Record<string, unknown>;
  defaultNetwork: ResolvedNetwork;
  /** `defaultNetworks` from multinet's config, then the annotation's networks, in order. */
  additional: ResolvedNetwork[];
  /**
   * The interface name of each of `additional`, decided by the caller (hot-plug's names,
   * docs/hotplug.md); absent = assignInterfaceNames (ADD's `net<index>` rule).
   */
  ifNames?: string[];
}

/**
 * The interface name of each additional network: its requested `interface`, else `net<index>`
 * where the index counts the default network as 0. A name used twice (`net-b,net-a@net1`: the
 * request collides with a generated name) is refused. `multinet validate` runs this same rule.
 */
export function assignInterfaceNames(
  runtimeIfName: string,
  defaultNetworkName: string,
  additional: readonly { network: string; selection?: { interface?: string | undefined } }[],
  pod: string,
): string[] {
  const owner = new Map<string, string>([[runtimeIfName, `default network ${defaultNetworkName}`]]);
  return additional.map((net, i) => {
    const ifName = net.selection?.interface ?? `net${i + 1}`;
    const taken = owner.get(ifName);
    if (taken !== undefined) {
      throw new EngineError({
        code: EngineErrorCode.InvalidAnnotation,
        pod,
        network: net.network,
        reason: `interface name "${ifName}" is already used by ${taken}; request a different "interface"`,
        cniCode: 7,
      });
    }
    owner.set(ifName, `network ${net.network}`);
    return ifName;
  });
}

/**
 * Orders the attachments and names their interfaces: the default network first on the runtime's
 * CNI_IFNAME (NPWG §6.2), then each additional network on its requested name or `net<index>`,
 * where the index counts the default network as 0 (the de-facto Multus numbering users rely on).
 */
export function planAttachments(input: PlanInput): AttachmentPlan {
  const pod = podLabel(input.pod, input.containerId);
  const attachments: PlannedAttachment[] = [
    {
      network: input.defaultNetwork.network,
      ifName: input.runtimeIfName,
      isDefault: true,
      configText: input.defaultNetwork.configText,
      capabilityArgs: { ...input.runtimeCapabilityArgs },
      ...(input.defaultNetwork.resourceName ? { resourceName: input.defaultNetwork.resourceName } : {}),
      ...(input.defaultNetwork.selection ? { selection: selectionKey(input.defaultNetwork.selection) } : {}),
    },
  ];
  const ifNames =
    input.ifNames ??
    assignInterfaceNames(input.runtimeIfName, input.defaultNetwork.network, input.additional, pod);
  input.additional.forEach((net, i) => {
    const sel = net.selection;
    const ifName = ifNames[i]!;
    let configText = net.configText;
    let capabilityArgs: Record<string, unknown> = {};
    if (sel) {
      const injected = injectSelection(net.configText, sel);
      if (injected.missingCapability) {
        const { key, capability } = injected.missingCapability;
        throw new EngineError({
          code: EngineErrorCode.CapabilityMissing,
          pod,
          network: net.network,
          reason: `the pod requests "${key}" but no plugin of this network declares the capability "${capability}" (add "capabilities": {"${capability}": true} to a plugin that supports it)`,
          cniCode: 7,
        });
      }
      configText = injected.configText;
      capabilityArgs = injected.capabilityArgs;
    }
    const att: PlannedAttachment = {
      network: net.network,
      ifName,
      isDefault: false,
      configText,
      capabilityArgs,
    };
    if (sel?.defaultRoute !== undefined) att.defaultRoute = [...sel.defaultRoute];
    if (net.resourceName) att.resourceName = net.resourceName;
    if (sel) att.selection = selectionKey(sel);
    attachments.push(att);
  });
  return {
    pod: input.pod,
    containerId: input.containerId,
    netns: input.netns,
    cniArgs: input.cniArgs,
    attachments,
    ifNames: attachments.map((a) => a.ifName),
  };
}

/** The plan for one CNI call: the request's own parameters plus the resolved networks. */
export function planForRequest(
  req: {
    containerId: string;
    netns: string;
    ifName: string;
    cniArgs: [string, string][];
    runtimeConfig: Record<string, unknown>;
  },
  pod: PodIdentity | undefined,
  defaultNetwork: ResolvedNetwork,
  additional: ResolvedNetwork[],
  ifNames?: string[],
): AttachmentPlan {
  return planAttachments({
    ...(ifNames ? { ifNames } : {}),
    pod,
    containerId: req.containerId,
    netns: req.netns,
    runtimeIfName: req.ifName,
    cniArgs: req.cniArgs,
    runtimeCapabilityArgs: req.runtimeConfig,
    defaultNetwork,
    additional,
  });
}
