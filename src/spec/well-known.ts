/**
 * Names fixed by the NPWG standard, its 2018 proof of concept and Multus conventions. Kept in one
 * place so that readers and writers of pods and definitions spell them identically.
 */

/** Pod annotation selecting secondary networks (spec §4.1). */
export const NETWORKS_ANNOTATION = 'k8s.v1.cni.cncf.io/networks';
/** 2018 proof-of-concept spelling; read only when NETWORKS_ANNOTATION is absent (docs/annotations.md, "the 2018 Network"). */
export const LEGACY_NETWORKS_ANNOTATION = 'kubernetes.v1.cni.cncf.io/networks';

/** Pod annotation reporting attachments (spec §5). */
export const NETWORK_STATUS_ANNOTATION = 'k8s.v1.cni.cncf.io/network-status';
/** Written by the client library until v1.3.0 beside NETWORK_STATUS_ANNOTATION; read-only for us. */
export const LEGACY_NETWORKS_STATUS_ANNOTATION = 'k8s.v1.cni.cncf.io/networks-status';
/** 2018 proof-of-concept status key; read-only for us. */
export const POC_NETWORKS_STATUS_ANNOTATION = 'kubernetes.v1.cni.cncf.io/networks-status';

/** Pod annotation replacing the cluster default network for one pod (Multus convention, not in the spec). */
export const DEFAULT_NETWORK_ANNOTATION = 'v1.multus-cni.io/default-network';

/** NetworkAttachmentDefinition annotation naming a device-plugin resource (device-info spec §4.1). */
export const RESOURCE_NAME_ANNOTATION = 'k8s.v1.cni.cncf.io/resourceName';

/** NetworkAttachmentDefinition identity (spec §3.1). */
export const NAD_GROUP = 'k8s.cni.cncf.io';
export const NAD_API_VERSION = 'k8s.cni.cncf.io/v1';
export const NAD_KIND = 'NetworkAttachmentDefinition';
export const NAD_PLURAL = 'network-attachment-definitions';

/** 2018 proof-of-concept `Network` identity (docs/annotations.md, "the 2018 Network"). */
export const LEGACY_NETWORK_GROUP = 'kubernetes.cni.cncf.io';
export const LEGACY_NETWORK_API_VERSION = 'kubernetes.cni.cncf.io/v1';
export const LEGACY_NETWORK_KIND = 'Network';
export const LEGACY_NETWORK_PLURAL = 'networks';

/** cniVersion the 2018 proof of concept wrote when it synthesised a config from `spec.plugin`. */
export const LEGACY_PLUGIN_CNI_VERSION = '0.3.1';

/**
 * The ResourceSlice device attributes by which a DRA device backs a NAD attachment (Multus's
 * contract, pkg/draclient): the NAD's resourceName, and the ID the delegate gets as `deviceID`.
 */
export const DRA_RESOURCE_NAME_ATTRIBUTE = 'k8s.cni.cncf.io/resourceName';
export const DRA_DEVICE_ID_ATTRIBUTE = 'k8s.cni.cncf.io/deviceID';
