import { CniError, CniErrorCode } from './cni-error.ts';
import {
  compact,
  ipFamily,
  isResult020,
  isResult040,
  type CniResult,
  type IpConfig020,
  type Result020,
  type Result040,
  type Result100,
  type Route,
} from './result.ts';
import { isSupportedVersion, tryNormalizeVersion } from './versions.ts';

/**
 * Converts a result to another spec version with the rules of Go's pkg/types converters
 * (containernetworking/cni pkg/types/convert.go and pkg/types/100): 0.x↔0.x copies; 1.x→0.3/0.4 drops interface mtu/socketPath/pciID and computes
 * ips[].version; 1.1↔1.0 only relabels; anything→0.1/0.2 keeps the first address per family and
 * the routes of families that have one, and fails when there is no address at all. `""` means
 * 0.1.0. Throws CniError code 1 for an unknown target or an impossible conversion.
 */
export function convertResult(result: CniResult, toVersion: string): CniResult {
  const target = toVersion === '' ? '0.1.0' : tryNormalizeVersion(toVersion);
  if (target === undefined || !isSupportedVersion(target)) {
    throw new CniError(
      CniErrorCode.IncompatibleVersion,
      `cannot convert result to CNI version ${JSON.stringify(toVersion)}`,
      'no converter for that version',
    );
  }
  switch (target) {
    case '0.1.0':
    case '0.2.0':
      return toResult020(result, target);
    case '0.3.0':
    case '0.3.1':
    case '0.4.0':
      return toResult040(result, target);
    case '1.0.0':
    case '1.1.0':
      return toResult100(result, target);
  }
}

function toResult020(from: CniResult, cniVersion: Result020['cniVersion']): Result020 {
  if (isResult020(from)) return clone({ ...from, cniVersion });
  const r040 = toResult040(from, '0.4.0');
  let ip4: IpConfig020 | undefined;
  let ip6: IpConfig020 | undefined;
  for (const ip of r040.ips ?? []) {
    const cfg = compact<IpConfig020>({ ip: ip.address, gateway: ip.gateway, routes: undefined });
    if (ip.version === '4' && ip4 === undefined) ip4 = cfg;
    else if (ip.version === '6' && ip6 === undefined) ip6 = cfg;
  }
  for (const route of r040.routes ?? []) {
    const target = ipFamily(route.dst) === '4' ? ip4 : ip6;
    if (target === undefined) continue;
    (target.routes ??= []).push(compact<Route>({ dst: route.dst, gw: route.gw }));
  }
  if (ip4 === undefined && ip6 === undefined) {
    throw new CniError(
      CniErrorCode.IncompatibleVersion,
      `cannot convert result to CNI version ${cniVersion}: no valid IP addresses`,
      'results before 0.3.0 must carry an IPv4 or IPv6 address',
    );
  }
  return compact<Result020>({ cniVersion, ip4, ip6, dns: clone(r040.dns) });
}

function toResult040(from: CniResult, cniVersion: Result040['cniVersion']): Result040 {
  if (isResult040(from)) return clone({ ...from, cniVersion });
  if (isResult020(from)) {
    const { ips, routes } = fromIp020(from);
    return compact<Result040>({
      cniVersion,
      interfaces: undefined,
      ips: nonEmpty(ips.map((ip) => ({ version: ipFamily(ip.address), ...ip }))),
      routes: nonEmpty(routes),
      dns: clone(from.dns),
    });
  }
  return compact<Result040>({
    cniVersion,
    interfaces: from.interfaces?.map((i) => compact({ name: i.name, mac: i.mac, sandbox: i.sandbox })),
    ips: from.ips?.map((ip) => compact({ version: ipFamily(ip.address), ...ip })),
    routes: clone(from.routes),
    dns: clone(from.dns),
  });
}

function toResult100(from: CniResult, cniVersion: Result100['cniVersion']): Result100 {
  if (isResult020(from)) {
    const { ips, routes } = fromIp020(from);
    return compact<Result100>({
      cniVersion,
      interfaces: undefined,
      ips: nonEmpty(ips),
      routes: nonEmpty(routes),
      dns: clone(from.dns),
    });
  }
  if (isResult040(from)) {
    return compact<Result100>({
      cniVersion,
      interfaces: clone(from.interfaces),
      ips: from.ips?.map(({ version: _version, ...rest }) => ({ ...rest })),
      routes: clone(from.routes),
      dns: clone(from.dns),
    });
  }
  return clone({ ...from, cniVersion });
}

/** ip4 then ip6 become ips (no interface index), their routes concatenated (Go convertFrom02x). */
function fromIp020(from: Result020): { ips: { address: string; gateway?: string }[]; routes: Route[] } {
  const ips: { address: string; gateway?: string }[] = [];
  const routes: Route[] = [];
  for (const cfg of [from.ip4, from.ip6]) {
    if (cfg === undefined) continue;
    ips.push(compact({ address: cfg.ip, gateway: cfg.gateway }));
    routes.push(...(clone(cfg.routes) ?? []));
  }
  return { ips, routes };
}

/** Go's omitempty: an empty list is not emitted. */
function nonEmpty<T>(items: T[]): T[] | undefined {
  return items.length > 0 ? items : undefined;
}

function clone<T>(value: T): T {
  return value === undefined ? value : structuredClone(value);
}
