/**
 * Linux interface names as the kernel accepts them (dev_valid_name): 1 to 15 bytes (IFNAMSIZ 16 with
 * the NUL), not "." or "..", no '/', ':' or whitespace. The kernel's whitespace is its Latin-1
 * isspace(), which includes the byte 0xA0: UTF-8 characters such as U+00A0 or U+2020 contain it.
 * We also refuse control and invisible formatting characters (C0, C1, bidi overrides,
 * zero-width): the kernel would take them, but they only ever appear in attacks on logs and
 * terminals.
 */

const IFNAME_MAX_BYTES = 15;

export function interfaceNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'must not be empty';
  const bytes = Buffer.from(name, 'utf8');
  if (bytes.length > IFNAME_MAX_BYTES) return `longer than ${IFNAME_MAX_BYTES} bytes (${bytes.length})`;
  if (name === '.' || name === '..') return 'must not be "." or ".."';
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x20\x7f-\x9f]|\s/u.test(name)) return 'must not contain whitespace or control characters';
  if (/\p{Cf}/u.test(name))
    return 'must not contain invisible formatting characters (such as bidi overrides)';
  if (bytes.includes(0xa0)) return 'must not contain a character the kernel takes for whitespace (byte 0xA0)';
  if (name.includes('/')) return "must not contain '/'";
  if (name.includes(':')) return "must not contain ':' (reserved for alias names)";
  return undefined;
}
