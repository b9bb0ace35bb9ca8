import { dns1123LabelProblem, dns1123SubdomainProblem } from './dns-1123.ts';
import { infinibandGuidProblem, macAddressProblem } from './hardware-address.ts';
import { interfaceNameProblem } from '../names/interface-name.ts';
import { canonicalAddress, ipAddressProblem, ipOrCidrProblem, isIpv4Mapped } from './ip-address.ts';
import type { Bandwidth, NetworkSelectionElement, PortMapping } from './network-selection-element.ts';
import { SpecError } from './spec-error.ts';

/**
 * Value rules of the selection annotation (spec §4.1.2.1). The spec says an invalid annotation is
 * "ignored"; we fail the pod instead (docs/annotations.md explains why), so every rule throws a
 * SpecError naming the element, the wire key, the value and the reason.
 */

export interface SelectionContext {
  /** The default network's pod interface (CNI_IFNAME from the runtime, usually eth0). */
  defaultInterface?: string;
}

const PROTOCOLS = new Set(['tcp', 'udp', 'sctp']);
const BANDWIDTH_PAIRS = [
  ['ingressRate', 'ingressBurst'],
  ['egressRate', 'egressBurst'],
] as const;

/** Checks every element and the rules between them: unique interfaces, at most one default-route. */
export function validateNetworkSelections(
  elements: readonly NetworkSelectionElement[],
  context: SelectionContext = {},
): void {
  const interfaces = new Map<string, number>();
  let defaultRouteAt: number | undefined;
  elements.forEach((element, index) => {
    validateNetworkSelection(element, index);
    const fail = (key: string, value: unknown, reason: string): never => {
      throw selectionError(element, index, key, value, reason);
    };
    if (element.defaultRoute !== undefined) {
      if (defaultRouteAt !== undefined) {
        fail(
          'default-route',
          undefined,
          `only one element may request the default route and element ${defaultRouteAt} already does (spec §4.1.2.1.9)`,
        );
      }
      defaultRouteAt = index;
    }
    const ifName = element.interface;
    if (ifName === undefined) return;
    if (ifName === context.defaultInterface) {
      fail('interface', ifName, 'already used by the default network (spec §4.1.2.1.5)');
    }
    const earlier = interfaces.get(ifName);
    if (earlier !== undefined)
      fail('interface', ifName, `already requested by element ${earlier} (spec §4.1.2.1.5)`);
    interfaces.set(ifName, index);
  });
}

/** Checks one element's values. `index` is its 0-based position in the annotation. */
export function validateNetworkSelection(element: NetworkSelectionElement, index: number): void {
  const fail = (key: string, value: unknown, reason: string): never => {
    throw selectionError(element, index, key, value, reason);
  };
  const check = (key: string, value: string, problem: string | undefined): void => {
    if (problem !== undefined) fail(key, value, problem);
  };
  check('name', element.name, dns1123LabelProblem(element.name));
  check('namespace', element.namespace, dns1123LabelProblem(element.namespace));
  if (element.ips !== undefined) {
    if (element.ips.length === 0) fail('ips', undefined, 'must list at least one address (spec §4.1.2.1.3)');
    element.ips.forEach((ip, i) => check(`ips[${i}]`, ip, ipOrCidrProblem(ip)));
    if (element.ipamClaimReference !== undefined) {
      fail(
        'ipam-claim-reference',
        element.ipamClaimReference,
        'cannot be combined with ips (spec §4.1.2.1.11)',
      );
    }
  }
  if (element.mac !== undefined) check('mac', element.mac, macAddressProblem(element.mac));
  if (element.interface !== undefined)
    check('interface', element.interface, interfaceNameProblem(element.interface));
  element.defaultRoute?.forEach((gw, i) => check(`default-route[${i}]`, gw, gatewayProblem(gw)));
  if (element.portMappings !== undefined) validatePortMappings(element.portMappings, fail);
  if (element.bandwidth !== undefined) validateBandwidth(element.bandwidth, fail);
  if (element.cniArgs !== undefined && !isPlainObject(element.cniArgs)) {
    fail('cni-args', element.cniArgs, 'must be a JSON object');
  }
  if (element.infinibandGuid !== undefined) {
    check('infiniband-guid', element.infinibandGuid, infinibandGuidProblem(element.infinibandGuid));
  }
  if (element.ipamClaimReference !== undefined) {
    const ref = element.ipamClaimReference;
    check('ipam-claim-reference', ref, dns1123SubdomainProblem(ref));
  }
}

type Fail = (key: string, value: unknown, reason: string) => never;

function gatewayProblem(gw: string): string | undefined {
  const problem = ipAddressProblem(gw);
  if (problem !== undefined) return `${problem} (gateways are bare addresses)`;
  // The route editor would treat it as IPv6 and replace the pod's IPv6 default routes.
  if (isIpv4Mapped(gw))
    return `an IPv4-mapped IPv6 address: write the IPv4 gateway ${canonicalAddress(gw).slice(7)} instead`;
  return undefined;
}

function validatePortMappings(mappings: readonly PortMapping[], fail: Fail): void {
  if (mappings.length === 0)
    fail('portMappings', undefined, 'must list at least one mapping (spec §4.1.2.1.7)');
  mappings.forEach((m, i) => {
    const at = `portMappings[${i}]`;
    for (const key of ['hostPort', 'containerPort'] as const) {
      const port = m[key];
      if (!Number.isInteger(port) || port < 1 || port > 65535) {
        fail(`${at}.${key}`, port, 'must be an integer from 1 to 65535');
      }
    }
    if (m.protocol !== undefined && !PROTOCOLS.has(m.protocol.toLowerCase())) {
      fail(`${at}.protocol`, m.protocol, 'must be TCP, UDP or SCTP');
    }
    if (m.hostIP !== undefined) {
      const problem = ipAddressProblem(m.hostIP);
      if (problem !== undefined) fail(`${at}.hostIP`, m.hostIP, problem);
    }
  });
}

function validateBandwidth(bandwidth: Bandwidth, fail: Fail): void {
  let any = false;
  for (const [rateKey, burstKey] of BANDWIDTH_PAIRS) {
    for (const key of [rateKey, burstKey]) {
      const value = bandwidth[key];
      if (value === undefined) continue;
      any = true;
      if (!Number.isSafeInteger(value) || value <= 0) {
        fail(`bandwidth.${key}`, value, 'must be a positive integer (spec §4.1.2.1.8)');
      }
    }
    if (bandwidth[burstKey] !== undefined && bandwidth[rateKey] === undefined) {
      fail(
        `bandwidth.${burstKey}`,
        bandwidth[burstKey],
        `is only valid together with ${rateKey} (spec §4.1.2.1.8)`,
      );
    }
  }
  if (!any) fail('bandwidth', undefined, 'must set at least one of ingressRate or egressRate');
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function selectionError(
  element: NetworkSelectionElement,
  index: number,
  key: string,
  value: unknown,
  reason: string,
): SpecError {
  return new SpecError({
    code: 'INVALID_NETWORKS_ANNOTATION',
    subject: 'networks annotation',
    element: index,
    elementName: typeof element.name === 'string' && element.name !== '' ? element.name : undefined,
    key,
    value,
    reason,
  });
}
