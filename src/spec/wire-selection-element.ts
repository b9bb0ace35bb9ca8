import type { Bandwidth, NetworkSelectionElement, PortMapping } from './network-selection-element.ts';
import { SELECTION_WIRE_KEYS } from './network-selection-element.ts';
import { SpecError } from './spec-error.ts';

/**
 * The JSON form of one selection element (spec §4.1.2) ⇄ NetworkSelectionElement. This layer checks
 * shapes and types only; value rules live in validate-network-selection.ts.
 *
 * - Keys without a '.' are reserved for the spec (§4.1.2.1): an unknown one is refused, since it is
 *   either a typo or a newer feature we would otherwise silently not provide.
 * - Keys with a '.' are implementation extensions (reverse-DNS, §4.1.2.1) and are ignored.
 * - `null` for an optional key means "not set", as in the Go client.
 * - 2018 proof-of-concept keys are aliases (docs/annotations.md, "the 2018 Network"): interfaceRequest → interface,
 *   ipRequest (string or list) → ips, macRequest → mac. Both spellings with different values is an error.
 */

const KNOWN_KEYS = new Set<string>(Object.values(SELECTION_WIRE_KEYS));
const LEGACY_ALIASES = { interfaceRequest: 'interface', ipRequest: 'ips', macRequest: 'mac' } as const;
const PORT_MAPPING_KEYS = new Set(['hostPort', 'containerPort', 'protocol', 'hostIP']);
const BANDWIDTH_KEYS = new Set(['ingressRate', 'ingressBurst', 'egressRate', 'egressBurst']);

type Raw = Record<string, unknown>;

export function fromWireSelectionElement(
  raw: unknown,
  index: number,
  podNamespace: string,
): NetworkSelectionElement {
  const elementName = isObject(raw) && typeof raw.name === 'string' && raw.name !== '' ? raw.name : undefined;
  const fail = (key: string | undefined, value: unknown, reason: string): never => {
    throw new SpecError({
      code: 'INVALID_NETWORKS_ANNOTATION',
      subject: 'networks annotation',
      element: index,
      elementName,
      key,
      value,
      reason,
    });
  };
  if (!isObject(raw)) return fail(undefined, raw, 'must be a JSON object such as {"name": "my-net"}');

  const fields: Raw = {};
  for (const key of Object.keys(raw)) {
    const value = raw[key];
    if (value === null) continue;
    if (KNOWN_KEYS.has(key)) fields[key] = value;
    else if (key in LEGACY_ALIASES) continue;
    else if (!key.includes('.')) {
      fail(
        key,
        undefined,
        'unknown key (keys without a "." are reserved for the spec; extensions use reverse-DNS names)',
      );
    }
  }
  for (const [legacy, modern] of Object.entries(LEGACY_ALIASES)) {
    if (!Object.hasOwn(raw, legacy) || raw[legacy] === null) continue;
    const value = legacy === 'ipRequest' && typeof raw[legacy] === 'string' ? [raw[legacy]] : raw[legacy];
    if (Object.hasOwn(fields, modern) && JSON.stringify(fields[modern]) !== JSON.stringify(value)) {
      fail(legacy, raw[legacy], `conflicts with "${modern}" (it is the 2018 spelling of the same key)`);
    }
    fields[modern] = value;
  }

  const str = (key: string): string | undefined => {
    const v = fields[key];
    if (v === undefined || typeof v === 'string') return v;
    return fail(key, v, 'must be a string');
  };
  const strList = (key: string): string[] | undefined => {
    const v = fields[key];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))
      return fail(key, v, 'must be a list of strings');
    return [...(v as string[])];
  };

  const name = str('name');
  if (name === undefined) return fail('name', undefined, 'missing; every element must name a network');
  const namespace = str('namespace');
  const element: NetworkSelectionElement = {
    name,
    namespace: namespace === undefined || namespace === '' ? podNamespace : namespace,
  };
  const ips = strList('ips');
  if (ips !== undefined) element.ips = ips;
  const mac = str('mac');
  if (mac !== undefined) element.mac = mac;
  const ifName = str('interface');
  if (ifName !== undefined) element.interface = ifName;
  const defaultRoute = strList('default-route');
  if (defaultRoute !== undefined) element.defaultRoute = defaultRoute;
  if (fields.portMappings !== undefined) element.portMappings = portMappingsFrom(fields.portMappings, fail);
  if (fields.bandwidth !== undefined) element.bandwidth = bandwidthFrom(fields.bandwidth, fail);
  const cniArgs = fields['cni-args'];
  if (cniArgs !== undefined) {
    if (!isObject(cniArgs)) return fail('cni-args', cniArgs, 'must be a JSON object');
    element.cniArgs = cniArgs;
  }
  const guid = str('infiniband-guid');
  if (guid !== undefined) element.infinibandGuid = guid;
  const claim = str('ipam-claim-reference');
  if (claim !== undefined) element.ipamClaimReference = claim;
  return element;
}

/** The element as the JSON list form writes it; `namespace` is always written. */
export function toWireSelectionElement(element: NetworkSelectionElement): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [field, wireKey] of Object.entries(SELECTION_WIRE_KEYS)) {
    const value = element[field as keyof NetworkSelectionElement];
    if (value !== undefined) out[wireKey] = value;
  }
  return out;
}

type Fail = (key: string | undefined, value: unknown, reason: string) => never;

function portMappingsFrom(value: unknown, fail: Fail): PortMapping[] {
  if (!Array.isArray(value)) return fail('portMappings', value, 'must be a list of objects');
  return value.map((raw, i) => {
    const at = `portMappings[${i}]`;
    if (!isObject(raw)) return fail(at, raw, 'must be an object with hostPort and containerPort');
    rejectUnknown(raw, PORT_MAPPING_KEYS, at, fail);
    const num = (key: 'hostPort' | 'containerPort'): number => {
      const v = raw[key];
      if (typeof v !== 'number')
        return fail(`${at}.${key}`, v, v === undefined ? 'missing' : 'must be a number');
      return v;
    };
    const mapping: PortMapping = { hostPort: num('hostPort'), containerPort: num('containerPort') };
    for (const key of ['protocol', 'hostIP'] as const) {
      const v = raw[key];
      if (v === undefined || v === null) continue;
      if (typeof v !== 'string') return fail(`${at}.${key}`, v, 'must be a string');
      mapping[key] = v;
    }
    return mapping;
  });
}

function bandwidthFrom(value: unknown, fail: Fail): Bandwidth {
  if (!isObject(value)) return fail('bandwidth', value, 'must be an object');
  rejectUnknown(value, BANDWIDTH_KEYS, 'bandwidth', fail);
  const bandwidth: Bandwidth = {};
  for (const key of ['ingressRate', 'ingressBurst', 'egressRate', 'egressBurst'] as const) {
    const v = value[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'number') return fail(`bandwidth.${key}`, v, 'must be a number');
    bandwidth[key] = v;
  }
  return bandwidth;
}

function rejectUnknown(raw: Raw, allowed: ReadonlySet<string>, at: string, fail: Fail): void {
  for (const key of Object.keys(raw)) {
    if (!allowed.has(key))
      fail(`${at}.${key}`, undefined, `unknown key (expected ${[...allowed].join(', ')})`);
  }
}

function isObject(value: unknown): value is Raw {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
