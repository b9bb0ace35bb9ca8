/**
 * Hardware addresses of the selection annotation: `mac` is a 6-byte Ethernet address (spec v1.2+
 * dropped 20-byte IPoIB addresses from `mac`), `infiniband-guid` an 8-byte GUID (§4.1.2.1.10).
 * Bytes are two hex digits separated consistently by ':' or '-', the forms Go's net.ParseMAC and
 * the reference plugins accept.
 */

function byteCount(text: string): number | undefined {
  const match = /^[0-9a-fA-F]{2}(?:([:-])[0-9a-fA-F]{2}(?:\1[0-9a-fA-F]{2})*)?$/.exec(text);
  if (!match) return undefined;
  return match[1] === undefined ? 1 : text.split(match[1]).length;
}

export function macAddressProblem(text: string): string | undefined {
  const bytes = byteCount(text);
  if (bytes === 6) return undefined;
  if (bytes === 20) {
    return 'not a 6-byte Ethernet MAC address (20-byte IPoIB addresses are not accepted since spec v1.2; use infiniband-guid)';
  }
  return 'not a 6-byte Ethernet MAC address (six hex bytes separated by ":" or "-")';
}

export function infinibandGuidProblem(text: string): string | undefined {
  if (byteCount(text) === 8) return undefined;
  return 'not an 8-byte InfiniBand GUID (eight hex bytes separated by ":" or "-")';
}
