import { isIP } from 'node:net';
import * as v from 'valibot';
import { issuePath, present } from '../json/schema-issue.ts';
import { isJsonObject, parseBoundedJson } from './bounded-json.ts';
import { CniError, CniErrorCode } from './cni-error.ts';
import { isSupportedVersion, tryNormalizeVersion, type SupportedVersion } from './versions.ts';

/** SPEC §5 "dns"; shared by every result version. */
export interface Dns {
  nameservers?: string[];
  domain?: string;
  search?: string[];
  options?: string[];
}

/** A route; the 1.1 extras (mtu, advmss, priority, table, scope) survive in older results too, as in Go. */
export interface Route {
  dst: string;
  gw?: string;
  mtu?: number;
  advmss?: number;
  priority?: number;
  table?: number;
  scope?: number;
}

/** 0.1.0 / 0.2.0: at most one address per family, no interfaces. */
export interface IpConfig020 {
  ip: string;
  gateway?: string;
  routes?: Route[];
}
export interface Result020 {
  cniVersion: '0.1.0' | '0.2.0';
  ip4?: IpConfig020;
  ip6?: IpConfig020;
  dns?: Dns;
}

export interface Interface040 {
  name: string;
  mac?: string;
  sandbox?: string;
}
export interface IpConfig040 {
  version: '4' | '6';
  address: string;
  gateway?: string;
  interface?: number;
}
/** 0.3.0 / 0.3.1 / 0.4.0. */
export interface Result040 {
  cniVersion: '0.3.0' | '0.3.1' | '0.4.0';
  interfaces?: Interface040[];
  ips?: IpConfig040[];
  routes?: Route[];
  dns?: Dns;
}

export interface Interface100 extends Interface040 {
  mtu?: number;
  socketPath?: string;
  pciID?: string;
}
export interface IpConfig100 {
  address: string;
  gateway?: string;
  interface?: number;
}
/** 1.0.0 / 1.1.0 (one Go type serves both; 1.1 fields may appear in a "1.0.0" result). */
export interface Result100 {
  cniVersion: '1.0.0' | '1.1.0';
  interfaces?: Interface100[];
  ips?: IpConfig100[];
  routes?: Route[];
  dns?: Dns;
}

export type CniResult = Result020 | Result040 | Result100;
export type ResultVersion = CniResult['cniVersion'];

export function isResult020(r: CniResult): r is Result020 {
  return r.cniVersion === '0.1.0' || r.cniVersion === '0.2.0';
}
export function isResult040(r: CniResult): r is Result040 {
  return r.cniVersion === '0.3.0' || r.cniVersion === '0.3.1' || r.cniVersion === '0.4.0';
}
export function isResult100(r: CniResult): r is Result100 {
  return r.cniVersion === '1.0.0' || r.cniVersion === '1.1.0';
}

/**
 * Parses a plugin's result text (SPEC §5). A missing or empty `cniVersion` takes
 * `defaultVersion` (the config's version, as pkg/invoke does since issue #895); `{}` and `null`
 * are accepted like Go does. Unknown fields are dropped, as Go's typed results drop them.
 * Throws CniError 6 for undecodable input, 1 for an unsupported version.
 */
export function parseResult(text: string | Buffer, defaultVersion: string): CniResult {
  return resultFromJson(parseBoundedJson(text, 'result'), defaultVersion);
}

/** Same as parseResult for an already decoded value (a prevResult, a cache record). */
export function resultFromJson(value: unknown, defaultVersion: string): CniResult {
  const obj = value === null ? {} : value;
  const { cniVersion } = check(ENVELOPE, obj);
  const version = supportedVersion(cniVersion || defaultVersion || '0.1.0');
  if (version === '0.1.0' || version === '0.2.0') return { cniVersion: version, ...check(RESULT_020, obj) };
  if (version === '1.0.0' || version === '1.1.0') return { cniVersion: version, ...check(RESULT_100, obj) };
  return { cniVersion: version, ...check(RESULT_040, obj) };
}

function supportedVersion(version: string): SupportedVersion {
  const normalized = tryNormalizeVersion(version);
  if (normalized === undefined || !isSupportedVersion(normalized)) {
    throw new CniError(
      CniErrorCode.IncompatibleVersion,
      `unsupported CNI result version ${JSON.stringify(version)}`,
    );
  }
  return normalized;
}

/** "4" or "6" for an address with or without prefix. */
export function ipFamily(addressOrCidr: string): '4' | '6' {
  return isIP(addressOrCidr.split('/')[0] ?? '') === 6 ? '6' : '4';
}

/** Drops undefined members so results compare and serialise cleanly. */
export function compact<T extends object>(value: { [K in keyof T]: T[K] | undefined }): T {
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(value)) if (x !== undefined) out[k] = x;
  return out as T;
}

/*
 * The schemas. Each message is the tail of "invalid result: <field> <message>"; the first issue
 * (abortEarly) becomes the CniError, so fields are declared in the order they are checked, and a
 * record whose JSON key order differs from that order rebuilds itself in a transform.
 * An optional field is v.nullish: Go decodes JSON null like an absent field, and `present` drops
 * both from the output.
 */
const STRING = 'must be a string';
const UINT = 'must be a non-negative integer';

const string = v.string(STRING);
const strings = v.array(string, 'must be an array');
const uint = v.pipe(v.number(UINT), v.integer(UINT), v.minValue(0, UINT));
const address = v.pipe(
  string,
  v.check((s) => isIP(s) !== 0, 'must be an IP address'),
);
const cidr = v.pipe(string, v.check(isCidr, 'must be an address with prefix length, e.g. "10.1.0.5/16"'));

/**
 * An IP's index into `interfaces`. A negative one means "no interface" (0.3.0-era plugins wrote
 * -1; NPWG §5.3.3 speaks of a missing or negative index), so it is treated as absent.
 */
const interfaceIndex = v.pipe(
  v.number(UINT),
  v.integer(UINT),
  v.transform((i) => (i < 0 ? undefined : i)),
);

/**
 * A JSON object with these fields, unknown fields dropped and absent ones left out. A missing
 * required field gets the object's message: every required field of a result is a string.
 */
function record<const E extends v.ObjectEntries>(entries: E) {
  return v.pipe(
    v.custom<Record<string, unknown>>(isJsonObject, 'must be an object'),
    v.object(entries, STRING),
    v.transform(present),
  );
}

function list<S extends v.GenericSchema>(item: S) {
  return v.array(item, 'must be an array');
}

const ROUTE = record({
  dst: cidr,
  gw: v.nullish(address),
  mtu: v.nullish(uint),
  advmss: v.nullish(uint),
  priority: v.nullish(uint),
  table: v.nullish(uint),
  scope: v.nullish(uint),
}) satisfies v.GenericSchema<unknown, Route>;

/** An empty `dns` is left out. */
const DNS = v.pipe(
  record({
    nameservers: v.nullish(strings),
    domain: v.nullish(string),
    search: v.nullish(strings),
    options: v.nullish(strings),
  }),
  v.transform((dns) => (Object.keys(dns).length > 0 ? dns : undefined)),
) satisfies v.GenericSchema<unknown, Dns | undefined>;

const ip020 = (family: 4 | 6) =>
  record({
    ip: v.pipe(
      cidr,
      v.check((s) => isIP(s.split('/')[0] ?? '') === family, `must be an IPv${family} CIDR`),
    ),
    gateway: v.nullish(address),
    routes: v.nullish(list(ROUTE)),
  }) satisfies v.GenericSchema<unknown, IpConfig020>;

const RESULT_020 = v.pipe(
  v.object({ dns: v.nullish(DNS), ip4: v.nullish(ip020(4)), ip6: v.nullish(ip020(6)) }),
  v.transform((r) => present({ ip4: r.ip4, ip6: r.ip6, dns: r.dns })),
) satisfies v.GenericSchema<unknown, Omit<Result020, 'cniVersion'>>;

const INTERFACE_040_FIELDS = { name: string, mac: v.nullish(string), sandbox: v.nullish(string) };
const INTERFACE_040 = record(INTERFACE_040_FIELDS) satisfies v.GenericSchema<unknown, Interface040>;
const INTERFACE_100 = record({
  ...INTERFACE_040_FIELDS,
  mtu: v.nullish(uint),
  socketPath: v.nullish(string),
  pciID: v.nullish(string),
}) satisfies v.GenericSchema<unknown, Interface100>;

const IP_100_FIELDS = { address: cidr, gateway: v.nullish(address), interface: v.nullish(interfaceIndex) };
const IP_100 = record(IP_100_FIELDS) satisfies v.GenericSchema<unknown, IpConfig100>;

/**
 * `version` is required by the spec; when a plugin omits it (or sends "") we derive it from the
 * address. Unlike the other fields, a null `version` is refused.
 */
const IP_040 = v.pipe(
  record({ ...IP_100_FIELDS, version: v.optional(v.picklist(['4', '6', ''], 'must be "4" or "6"')) }),
  v.transform(({ version, ...ip }) => ({ version: version || ipFamily(ip.address), ...ip })),
) satisfies v.GenericSchema<unknown, IpConfig040>;

/** A 0.3/0.4 or 1.x result: the same members, with that version's interfaces and IPs. */
function result34OrLater<I extends v.GenericSchema, P extends v.GenericSchema>(iface: I, ip: P) {
  return v.pipe(
    v.object({
      dns: v.nullish(DNS),
      routes: v.nullish(list(ROUTE)),
      interfaces: v.nullish(list(iface)),
      ips: v.nullish(list(ip)),
    }),
    v.transform((r) => present({ interfaces: r.interfaces, ips: r.ips, routes: r.routes, dns: r.dns })),
  );
}

const RESULT_040 = result34OrLater(INTERFACE_040, IP_040) satisfies v.GenericSchema<
  unknown,
  Omit<Result040, 'cniVersion'>
>;
const RESULT_100 = result34OrLater(INTERFACE_100, IP_100) satisfies v.GenericSchema<
  unknown,
  Omit<Result100, 'cniVersion'>
>;

/** What is read before the version picks a schema; a JSON null `cniVersion` is refused. */
const ENVELOPE = v.pipe(
  v.custom<Record<string, unknown>>(isJsonObject, 'must be a JSON object'),
  v.object({ cniVersion: v.optional(string) }),
);

function isCidr(s: string): boolean {
  const [ip = '', prefix, ...rest] = s.split('/');
  const family = isIP(ip);
  return (
    family !== 0 &&
    prefix !== undefined &&
    rest.length === 0 &&
    /^[0-9]{1,3}$/.test(prefix) &&
    +prefix <= (family === 4 ? 32 : 128)
  );
}

/** Runs a schema; its first issue becomes CniError 6 naming the field, e.g. `ips[0].address`. */
function check<S extends v.GenericSchema>(schema: S, value: unknown): v.InferOutput<S> {
  const checked = v.safeParse(schema, value, { abortEarly: true });
  if (checked.success) return checked.output;
  const issue = checked.issues[0];
  return bad(issuePath(issue) ?? 'result', issue.message, issue.input);
}

function bad(at: string, why: string, value: unknown): never {
  const shown = value === undefined ? 'nothing' : JSON.stringify(value);
  throw new CniError(
    CniErrorCode.DecodingFailure,
    `invalid result: ${at} ${why}`,
    `got ${shown && shown.length > 80 ? `${shown.slice(0, 77)}...` : shown}`,
  );
}
