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

/** True for an IPv4-mapped IPv6 address (::ffff:192.0.2.1, RFC 4291 §2.5.5.2). */
export function isIpv4Mapped(text: string): boolean {
  return isIP(text) === 6 && /^::ffff:\d+\.\d+\.\d+\.\d+$/.test(canonicalAddress(text));
}

/**
 * The canonical text of an address (RFC 5952 for IPv6: lower case, longest zero run compressed,
 * "2001:db8::25" rather than "2001:DB8:0:0:0:0:0:25"). Not an address: returned unchanged.
 */
export function canonicalAddress(text: string): string {
  const family = isIP(text);
  if (family === 4) return text;
  if (family !== 6) return text;
  // The WHATWG URL parser serialises an IPv6 host per RFC 5952.
  const host = new URL(`http://[${text}]/`).hostname.slice(1, -1);
  // ...except that it writes an IPv4-mapped address in hex: RFC 5952 §5 keeps the dotted tail.
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(host);
  if (!mapped) return host;
  const hi = parseInt(mapped[1]!, 16);
  const lo = parseInt(mapped[2]!, 16);
  return `::ffff:${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** "10.1.1.5/24" → "10.1.1.5"; a bare address is returned unchanged. */
export function stripPrefixLength(text: string): string {
  const slash = text.indexOf('/');
  return slash < 0 ? text : text.slice(0, slash);
}
