import { jsonNestingDepth } from '../json/json-nesting-depth.ts';
import { canonicalAddress, stripPrefixLength } from './ip-address.ts';
import { SpecError, escapeForMessage } from './spec-error.ts';

/**
 * The network-status annotation (spec §5): one map per attachment. Deliberate differences from the
 * Go client's CreateNetworkStatuses are listed in docs/annotations.md; in short: the *first* sandbox
 * interface leads (§5.1.1), `ips` are bare addresses (as the client writes them), `default` and
 * `dns` are always written, and a plugin that returned nothing still gets a minimal entry.
 */
export interface NetworkStatus {
  /** `namespace/name` for a definition, the CNI config name for a file-based default network. */
  name: string;
  interface?: string;
  ips?: string[];
  mac?: string;
  mtu?: number;
  default: boolean;
  dns: StatusDns;
  /** Gateways of the result's default routes (client ≥ 1.4 key). */
  gateway?: string[];
  /** Present when the selection element asked for the default route (spec §5.3, v1.1). */
  'default-route'?: string[];
  /** Device Information (device-info spec), as the device plugin wrote it. */
  'device-info'?: unknown;
  /** multinet's extension (§5.3: custom keys have a '.'): set while this attachment fails CHECK. */
  [CHECK_MARK_KEY]?: CheckMark;
}

/**
 * The key of multinet's drift mark in a network-status entry (docs/readiness.md). Spec keys have
 * no '.', so readers that know only the spec (Multus's client) ignore it.
 */
export const CHECK_MARK_KEY = 'multinet.dev/check';

/** Present on an entry while the daemon's periodic CHECK of its attachment fails. */
export interface CheckMark {
  /** The delegate's CHECK error. */
  error: string;
  /** RFC 3339: when the daemon first saw this attachment fail. */
  since: string;
}

export interface StatusDns {
  nameservers?: string[];
  domain?: string;
  search?: string[];
  options?: string[];
}

/** Structural view of a CNI ≥ 0.3.0 result (CNI spec §5.1): only what status needs. */
export interface StatusResultInput {
  interfaces?: { name: string; mac?: string; mtu?: number; sandbox?: string }[];
  ips?: { address: string; gateway?: string; interface?: number }[];
  routes?: { dst: string; gw?: string }[];
  dns?: StatusDns;
}

export interface BuildNetworkStatusInput {
  network: string;
  isDefault: boolean;
  /** CNI_IFNAME used for the attachment. */
  ifName: string;
  /** The delegate's result converted to CNI ≥ 0.3.0; undefined when it returned none. */
  result: StatusResultInput | undefined;
  deviceInfo?: unknown;
  /** The selection element's `default-route` gateways; set only when the element had that key. */
  gateways?: string[];
}

/**
 * Status entries for one attachment, one per sandbox interface of the result (spec §5.1.1 takes
 * the first; the client writes one per sandbox interface). The leading entry, written first, is the
 * interface named `ifName`, else the first sandbox interface; it gets `default` and the IPs that have
 * no (valid, non-negative) `interface` index. Other IPs go to the entry their index points at; IPs of
 * host-side interfaces are left out. When no interface has `sandbox` set, an interface named `ifName`
 * is taken as the pod's. With none at all, or no result, there is one entry for `ifName` holding the
 * unindexed IPs (spec §5.1.1: SHOULD add a minimal map).
 */
export function buildNetworkStatus(input: BuildNetworkStatusInput): NetworkStatus[] {
  const result = input.result ?? {};
  const interfaces = Array.isArray(result.interfaces) ? result.interfaces : [];
  const ips = Array.isArray(result.ips) ? result.ips : [];
  const named = interfaces
    .map((iface, index) => ({ iface, index }))
    .filter(({ iface }) => isObject(iface) && nonEmpty(iface.name));
  let sandbox = named.filter(({ iface }) => nonEmpty(iface.sandbox));
  // Some plugins leave `sandbox` empty on the pod's interface; the one named ifName is still it.
  if (sandbox.length === 0) sandbox = named.filter(({ iface }) => iface.name === input.ifName).slice(0, 1);
  const leadIndex = sandbox.findIndex(({ iface }) => iface.name === input.ifName);
  const lead = leadIndex < 0 ? 0 : leadIndex;
  const gateway = defaultGateways(result.routes);
  const dns = dnsOf(result.dns);

  const base = (): NetworkStatus => ({ name: input.network, default: false, dns: { ...dns } });
  const entries: NetworkStatus[] = sandbox.length === 0 ? [{ ...base(), interface: input.ifName }] : [];
  for (const { iface } of sandbox) {
    const entry: NetworkStatus = { ...base(), interface: iface.name };
    if (nonEmpty(iface.mac)) entry.mac = iface.mac;
    if (typeof iface.mtu === 'number' && Number.isInteger(iface.mtu) && iface.mtu > 0) entry.mtu = iface.mtu;
    entries.push(entry);
  }
  const leadEntry = entries[lead] as NetworkStatus;
  for (const ip of ips) {
    if (!isObject(ip) || !nonEmpty(ip.address)) continue;
    const idx = ip.interface;
    const indexed = typeof idx === 'number' && Number.isInteger(idx) && idx >= 0;
    const target = indexed ? entries[sandbox.findIndex((s) => s.index === idx)] : leadEntry;
    if (target) (target.ips ??= []).push(canonicalAddress(stripPrefixLength(ip.address)));
  }
  leadEntry.default = input.isDefault;
  for (const entry of entries) {
    if (gateway.length > 0) entry.gateway = [...gateway];
    if (input.gateways !== undefined)
      entry['default-route'] =
        input.gateways.length > 0 ? input.gateways.map(canonicalAddress) : [...gateway];
    if (input.deviceInfo !== undefined) entry['device-info'] = input.deviceInfo;
  }
  return sandbox.length === 0 ? entries : [leadEntry, ...entries.filter((e) => e !== leadEntry)];
}

/**
 * Serialises in the layout of the client's SetNetworkStatus: each entry indented by 4 spaces,
 * entries joined with "," inside "[...]". The bytes still differ from Multus's wherever our values
 * do (docs/annotations.md lists where): compare parsed JSON.
 */
export function formatNetworkStatus(list: readonly NetworkStatus[]): string {
  return `[${list.map((entry) => JSON.stringify(inKeyOrder(entry), null, 4)).join(',')}]`;
}

const KEY_ORDER = [
  'name',
  'interface',
  'ips',
  'mac',
  'mtu',
  'default',
  'dns',
  'gateway',
  'default-route',
  'device-info',
  CHECK_MARK_KEY,
];

/** One fixed key order (close to the Go struct's), whatever order the entry was built in. */
function inKeyOrder(entry: NetworkStatus): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of KEY_ORDER) {
    const value = (entry as unknown as Record<string, unknown>)[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}

export const NETWORK_STATUS_MAX_BYTES = 1024 * 1024;
const NETWORK_STATUS_MAX_DEPTH = 64;

/**
 * Reads a network-status value written by us, Multus or the 2018 proof of concept. A missing
 * `default` is false (the client omits it when false); a missing `dns` is {}. Keys outside the
 * spec (§5.3 reserves keys without a '.') are dropped, except multinet's CHECK_MARK_KEY (kept when
 * well-formed).
 */
export function parseNetworkStatus(text: string): NetworkStatus[] {
  const fail = (
    element: number | undefined,
    key: string | undefined,
    value: unknown,
    reason: string,
  ): never => {
    throw new SpecError({
      code: 'INVALID_NETWORK_STATUS',
      subject: 'network-status annotation',
      element,
      key,
      value,
      reason,
    });
  };
  if (Buffer.byteLength(text, 'utf8') > NETWORK_STATUS_MAX_BYTES)
    fail(undefined, undefined, undefined, 'too large');
  if (jsonNestingDepth(text) > NETWORK_STATUS_MAX_DEPTH)
    fail(undefined, undefined, undefined, 'nests too deep');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return fail(undefined, undefined, undefined, `not valid JSON: ${escapeForMessage((e as Error).message)}`);
  }
  if (!Array.isArray(parsed)) return fail(undefined, undefined, undefined, 'must be a JSON list');
  return parsed.map((raw: unknown, i) => {
    if (!isObject(raw)) return fail(i, undefined, undefined, 'must be an object');
    const wrong = (key: string, what: string): never => fail(i, key, raw[key], `must be ${what}`);
    const str = (key: string): string | undefined => {
      const v = raw[key];
      if (v === undefined || v === null) return undefined;
      return typeof v === 'string' ? v : wrong(key, 'a string');
    };
    const strList = (key: string): string[] | undefined => {
      const v = raw[key];
      if (v === undefined || v === null) return undefined;
      return isStringList(v) ? [...v] : wrong(key, 'a list of strings');
    };
    const name = str('name');
    if (name === undefined) return fail(i, 'name', undefined, 'missing');
    const def = raw.default ?? false;
    if (typeof def !== 'boolean') wrong('default', 'true or false');
    const entry: NetworkStatus = { name, default: def as boolean, dns: {} };
    const ifName = str('interface');
    if (ifName !== undefined) entry.interface = ifName;
    const ips = strList('ips');
    if (ips !== undefined) entry.ips = ips;
    const mac = str('mac');
    if (mac !== undefined) entry.mac = mac;
    const mtu = raw.mtu;
    if (mtu !== undefined && mtu !== null)
      entry.mtu = typeof mtu === 'number' ? mtu : wrong('mtu', 'a number');
    const dns = raw.dns;
    if (dns !== undefined && dns !== null)
      entry.dns = isObject(dns) ? dnsOf(dns, wrong) : wrong('dns', 'an object');
    const gateway = strList('gateway');
    if (gateway !== undefined) entry.gateway = gateway;
    const defaultRoute = strList('default-route');
    if (defaultRoute !== undefined) entry['default-route'] = defaultRoute;
    if (raw['device-info'] !== undefined && raw['device-info'] !== null)
      entry['device-info'] = raw['device-info'];
    const mark = checkMarkOf(raw[CHECK_MARK_KEY]);
    if (mark) entry[CHECK_MARK_KEY] = mark;
    return entry;
  });
}

/** A drift mark as multinet writes it; anything else under the key is ignored. */
function checkMarkOf(v: unknown): CheckMark | undefined {
  if (!isObject(v) || typeof v['error'] !== 'string' || typeof v['since'] !== 'string') return undefined;
  return { error: v['error'], since: v['since'] };
}

/** Gateways of default routes (dst 0.0.0.0/0 or ::/0) that name one; no "<nil>" strings. */
function defaultGateways(routes: unknown): string[] {
  if (!Array.isArray(routes)) return [];
  const out: string[] = [];
  for (const route of routes) {
    if (!isObject(route) || !nonEmpty(route.gw)) continue;
    const gw = canonicalAddress(route.gw);
    if ((route.dst === '0.0.0.0/0' || route.dst === '::/0') && !out.includes(gw)) out.push(gw);
  }
  return out;
}

/** Copies the known DNS keys; with `wrong`, a key of the wrong type throws instead of being dropped. */
function dnsOf(dns: unknown, wrong?: (key: string, what: string) => never): StatusDns {
  const out: StatusDns = {};
  if (!isObject(dns)) return out;
  for (const key of ['nameservers', 'search', 'options'] as const) {
    const v = dns[key];
    // Building (no `wrong`): empty lists and strings carry nothing and are omitted, as the Go
    // client's omitempty does. Reading keeps what the writer wrote.
    if (isStringList(v)) {
      if (v.length > 0 || wrong) out[key] = [...v];
    } else if (v !== undefined && v !== null && wrong) wrong(`dns.${key}`, 'a list of strings');
  }
  if (typeof dns.domain === 'string') {
    if (dns.domain !== '' || wrong) out.domain = dns.domain;
  } else if (dns.domain !== undefined && dns.domain !== null && wrong) wrong('dns.domain', 'a string');
  return out;
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((x) => typeof x === 'string');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nonEmpty(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}
