/**
 * One entry of the pod's networks annotation (spec §4.1.2, keys up to v1.3). Fields are camelCase
 * here; SELECTION_WIRE_KEYS gives the spelling on the wire.
 */
export interface NetworkSelectionElement {
  /** NetworkAttachmentDefinition name (§4.1.2.1.1). */
  name: string;
  /** Always filled: the annotation's `namespace`, else the pod's namespace (§4.1.2.1.2). */
  namespace: string;
  /** Static IPs, each an address or address/prefix (§4.1.2.1.3, prefixes since v1.1). */
  ips?: string[];
  /** 6-byte Ethernet MAC (§4.1.2.1.4; 20-byte IPoIB addresses dropped in v1.2). */
  mac?: string;
  /** Pod-side interface name, becomes CNI_IFNAME (§4.1.2.1.5). */
  interface?: string;
  /** Gateways; this attachment gets the pod's default route (§4.1.2.1.9). May be empty. */
  defaultRoute?: string[];
  /** runtimeConfig.portMappings (§4.1.2.1.7). */
  portMappings?: PortMapping[];
  /** runtimeConfig.bandwidth (§4.1.2.1.8). */
  bandwidth?: Bandwidth;
  /** Passed to the delegate as CNI `args` (§4.1.2.1.6). Any JSON object. */
  cniArgs?: Record<string, unknown>;
  /** 8-byte InfiniBand GUID, becomes runtimeConfig.infinibandGUID (§4.1.2.1.10). */
  infinibandGuid?: string;
  /** Name of an IPAMClaim in the pod's namespace (§4.1.2.1.11, §8). */
  ipamClaimReference?: string;
}

export interface PortMapping {
  hostPort: number;
  containerPort: number;
  /** TCP, UDP or SCTP, any case; kept as written. */
  protocol?: string;
  hostIP?: string;
}

/** Rates in bits per second, bursts in bits (§4.1.2.1.8). */
export interface Bandwidth {
  ingressRate?: number;
  ingressBurst?: number;
  egressRate?: number;
  egressBurst?: number;
}

/** Field → JSON key of the selection element (spec §4.1.2.1, client library types.go). */
export const SELECTION_WIRE_KEYS = {
  name: 'name',
  namespace: 'namespace',
  ips: 'ips',
  mac: 'mac',
  interface: 'interface',
  defaultRoute: 'default-route',
  portMappings: 'portMappings',
  bandwidth: 'bandwidth',
  cniArgs: 'cni-args',
  infinibandGuid: 'infiniband-guid',
  ipamClaimReference: 'ipam-claim-reference',
} as const satisfies Record<keyof NetworkSelectionElement, string>;

export type SelectionField = keyof typeof SELECTION_WIRE_KEYS;
