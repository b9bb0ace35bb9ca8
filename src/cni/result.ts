import { isIP } from 'node:net';
import { isJsonObject, parseBoundedJson } from './bounded-json.ts';
import { CniError, CniErrorCode } from './cni-error.ts';
import { isSupportedVersion, tryNormalizeVersion } from './versions.ts';

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
  if (!isJsonObject(obj)) throw bad('result', 'must be a JSON object', obj);
  const given: unknown =
    obj.cniVersion === undefined || obj.cniVersion === '' ? defaultVersion : obj.cniVersion;
  if (typeof given !== 'string') throw bad('cniVersion', 'must be a string', given);
  const version = given === '' ? '0.1.0' : given;
  const normalized = tryNormalizeVersion(version);
  if (normalized === undefined || !isSupportedVersion(normalized)) {
    throw new CniError(
      CniErrorCode.IncompatibleVersion,
      `unsupported CNI result version ${JSON.stringify(version)}`,
    );
  }
  const dns = optional(obj.dns, 'dns', parseDns);
  if (normalized === '0.1.0' || normalized === '0.2.0') {
    return compact<Result020>({
      cniVersion: normalized,
      ip4: optional(obj.ip4, 'ip4', (v, at) => parseIp020(v, at, 4)),
      ip6: optional(obj.ip6, 'ip6', (v, at) => parseIp020(v, at, 6)),
      dns,
    });
  }
  const routes = optional(obj.routes, 'routes', (v, at) => list(v, at, parseRoute));
  if (normalized === '1.0.0' || normalized === '1.1.0') {
    return compact<Result100>({
      cniVersion: normalized,
      interfaces: optional(obj.interfaces, 'interfaces', (v, at) => list(v, at, parseInterface100)),
      ips: optional(obj.ips, 'ips', (v, at) => list(v, at, parseIp100)),
      routes,
      dns,
    });
  }
  return compact<Result040>({
    cniVersion: normalized,
    interfaces: optional(obj.interfaces, 'interfaces', (v, at) => list(v, at, parseInterface040)),
    ips: optional(obj.ips, 'ips', (v, at) => list(v, at, parseIp040)),
    routes,
    dns,
  });
}

function parseIp020(v: unknown, at: string, family: 4 | 6): IpConfig020 {
  const o = object(v, at);
  const ip = cidr(o.ip, `${at}.ip`);
  if (isIP(ip.split('/')[0] ?? '') !== family) throw bad(`${at}.ip`, `must be an IPv${family} CIDR`, o.ip);
  return compact<IpConfig020>({
    ip,
    gateway: optional(o.gateway, `${at}.gateway`, address),
    routes: optional(o.routes, `${at}.routes`, (r, a) => list(r, a, parseRoute)),
  });
}

function parseInterface040(v: unknown, at: string): Interface040 {
  const o = object(v, at);
  return compact<Interface040>({
    name: string(o.name, `${at}.name`),
    mac: optional(o.mac, `${at}.mac`, string),
    sandbox: optional(o.sandbox, `${at}.sandbox`, string),
  });
}

function parseInterface100(v: unknown, at: string): Interface100 {
  const o = object(v, at);
  return compact<Interface100>({
    ...parseInterface040(v, at),
    mtu: optional(o.mtu, `${at}.mtu`, uint),
    socketPath: optional(o.socketPath, `${at}.socketPath`, string),
    pciID: optional(o.pciID, `${at}.pciID`, string),
  });
}

function parseIp100(v: unknown, at: string): IpConfig100 {
  const o = object(v, at);
  return compact<IpConfig100>({
    address: cidr(o.address, `${at}.address`),
    gateway: optional(o.gateway, `${at}.gateway`, address),
    interface: optional(o.interface, `${at}.interface`, interfaceIndex),
  });
}

/**
 * An IP's index into `interfaces`. A negative one means "no interface" (0.3.0-era plugins wrote
 * -1; NPWG §5.3.3 speaks of a missing or negative index), so it is treated as absent.
 */
function interfaceIndex(v: unknown, at: string): number | undefined {
  if (typeof v === 'number' && Number.isInteger(v) && v < 0) return undefined;
  return uint(v, at);
}

/** `version` is required by the spec; when a plugin omits it we derive it from the address. */
function parseIp040(v: unknown, at: string): IpConfig040 {
  const base = parseIp100(v, at);
  const derived = ipFamily(base.address);
  const given = object(v, at).version;
  if (given !== undefined && given !== '' && given !== '4' && given !== '6') {
    throw bad(`${at}.version`, 'must be "4" or "6"', given);
  }
  const version = given === '4' || given === '6' ? given : derived;
  return compact<IpConfig040>({ version, ...base });
}

function parseRoute(v: unknown, at: string): Route {
  const o = object(v, at);
  return compact<Route>({
    dst: cidr(o.dst, `${at}.dst`),
    gw: optional(o.gw, `${at}.gw`, address),
    mtu: optional(o.mtu, `${at}.mtu`, uint),
    advmss: optional(o.advmss, `${at}.advmss`, uint),
    priority: optional(o.priority, `${at}.priority`, uint),
    table: optional(o.table, `${at}.table`, uint),
    scope: optional(o.scope, `${at}.scope`, uint),
  });
}

function parseDns(v: unknown, at: string): Dns | undefined {
  const o = object(v, at);
  const strings = (x: unknown, a: string) => list(x, a, string);
  const dns = compact<Dns>({
    nameservers: optional(o.nameservers, `${at}.nameservers`, strings),
    domain: optional(o.domain, `${at}.domain`, string),
    search: optional(o.search, `${at}.search`, strings),
    options: optional(o.options, `${at}.options`, strings),
  });
  return Object.keys(dns).length > 0 ? dns : undefined;
}

/** "4" or "6" for an address with or without prefix. */
export function ipFamily(addressOrCidr: string): '4' | '6' {
  return isIP(addressOrCidr.split('/')[0] ?? '') === 6 ? '6' : '4';
}

function cidr(v: unknown, at: string): string {
  const s = string(v, at);
  const [ip = '', prefix, ...rest] = s.split('/');
  const family = isIP(ip);
  const max = family === 4 ? 32 : 128;
  if (
    family === 0 ||
    prefix === undefined ||
    rest.length > 0 ||
    !/^[0-9]{1,3}$/.test(prefix) ||
    +prefix > max
  ) {
    throw bad(at, 'must be an address with prefix length, e.g. "10.1.0.5/16"', v);
  }
  return s;
}

function address(v: unknown, at: string): string {
  const s = string(v, at);
  if (isIP(s) === 0) throw bad(at, 'must be an IP address', v);
  return s;
}

function string(v: unknown, at: string): string {
  if (typeof v !== 'string') throw bad(at, 'must be a string', v);
  return v;
}

function uint(v: unknown, at: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
    throw bad(at, 'must be a non-negative integer', v);
  return v;
}

function object(v: unknown, at: string): Record<string, unknown> {
  if (!isJsonObject(v)) throw bad(at, 'must be an object', v);
  return v;
}

function list<T>(v: unknown, at: string, item: (x: unknown, at: string) => T): T[] {
  if (!Array.isArray(v)) throw bad(at, 'must be an array', v);
  return v.map((x: unknown, i) => item(x, `${at}[${i}]`));
}

/** Go decodes JSON null like an absent field. */
function optional<T>(v: unknown, at: string, parse: (x: unknown, at: string) => T): T | undefined {
  return v === undefined || v === null ? undefined : parse(v, at);
}

/** Drops undefined members so results compare and serialise cleanly. */
export function compact<T extends object>(value: { [K in keyof T]: T[K] | undefined }): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = v;
  return out as T;
}

function bad(at: string, why: string, value: unknown): CniError {
  const shown = value === undefined ? 'nothing' : JSON.stringify(value);
  return new CniError(
    CniErrorCode.DecodingFailure,
    `invalid result: ${at} ${why}`,
    `got ${shown && shown.length > 80 ? `${shown.slice(0, 77)}...` : shown}`,
  );
}
