/**
 * A CNI plugin `type` names an executable that the runtime looks up in CNI_PATH (CNI SPEC §1,
 * "type": no path separators). Anything but a plain file name would let a
 * NetworkAttachmentDefinition author run a binary from anywhere on the node ("../../tmp/x",
 * "/usr/bin/x"), so it is refused before any lookup. The one rule for every reader: the conf
 * parser (cni/), the NAD checks (spec/) and the plugin locator (host/); it lives in a leaf of its
 * own because spec/ and cni/ import nothing of each other. It also ends up in log lines and
 * paths, hence no control characters.
 */

const NAME_MAX_BYTES = 255;

export function pluginTypeProblem(type: string): string | undefined {
  if (type.length === 0) return 'must not be empty';
  if (type === '.' || type === '..') return 'must be a plain file name, not "." or ".."';
  if (type.includes('/')) return "must be a plain file name without '/' (plugins are looked up in CNI_PATH)";
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(type)) return 'must not contain NUL or control characters';
  if (Buffer.byteLength(type, 'utf8') > NAME_MAX_BYTES) return `longer than ${NAME_MAX_BYTES} bytes`;
  return undefined;
}
