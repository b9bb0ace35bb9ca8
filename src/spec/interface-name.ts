/**
 * Linux interface names as the kernel accepts them (dev_valid_name): 1 to 15 bytes (IFNAMSIZ 16 with
 * the NUL), not "." or "..", no '/', ':' or whitespace. We also refuse other control characters:
 * the kernel would take them, but they only ever appear in attacks on logs and terminals.
 */

const IFNAME_MAX_BYTES = 15;

export function interfaceNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'must not be empty';
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > IFNAME_MAX_BYTES) return `longer than ${IFNAME_MAX_BYTES} bytes (${bytes})`;
  if (name === '.' || name === '..') return 'must not be "." or ".."';
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x20\x7f]/.test(name)) return 'must not contain whitespace or control characters';
  if (name.includes('/')) return "must not contain '/'";
  if (name.includes(':')) return "must not contain ':' (reserved for alias names)";
  return undefined;
}
