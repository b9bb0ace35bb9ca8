import { isIP } from 'node:net';

/**
 * IPv4 and IPv6 addresses and CIDRs as the selection annotation carries them (spec §4.1.2.1.3,
 * §4.1.2.1.9). node:net isIP does the address grammar (it already refuses IPv4 octets with leading
 * zeros); zone suffixes such as "fe80::1%eth0" are refused because Go's net.ParseIP refuses them and
 * delegates are Go programs.
 */

export function ipAddressProblem(text: string): string | undefined {
  if (text.includes('%')) return 'zone suffixes (%) are not allowed';
  if (isIP(text) === 0) return 'not an IPv4 or IPv6 address';
  return undefined;
}

/** An address, or an address with a prefix length ("10.1.1.5/24", "2001:db8::5/64"). */
export function ipOrCidrProblem(text: string): string | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return ipAddressProblem(text);
  const address = text.slice(0, slash);
  const prefix = text.slice(slash + 1);
  const addressProblem = ipAddressProblem(address);
  if (addressProblem) return addressProblem;
  const max = isIP(address) === 4 ? 32 : 128;
  if (!/^(0|[1-9][0-9]{0,2})$/.test(prefix) || Number(prefix) > max) {
    return `prefix length must be an integer from 0 to ${max}`;
  }
  return undefined;
}

/** "10.1.1.5/24" → "10.1.1.5"; a bare address is returned unchanged. */
export function stripPrefixLength(text: string): string {
  const slash = text.indexOf('/');
  return slash < 0 ? text : text.slice(0, slash);
}
