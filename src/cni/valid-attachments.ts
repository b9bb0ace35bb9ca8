/**
 * `cni.dev/valid-attachments` (CNI 1.1 §2 "GC"): the attachments the runtime still uses. A GC
 * releases every cached attachment that is not listed, so a list that cannot be read must stop
 * the GC: reading it as "nothing is valid" would release the addresses of every running pod.
 */
export interface ValidAttachment {
  containerId: string;
  ifName: string;
}

export class ValidAttachmentsError extends Error {
  constructor(reason: string) {
    super(`cni.dev/valid-attachments: ${reason}; GC did nothing`);
    this.name = 'ValidAttachmentsError';
  }
}

const KEYS = ['cni.dev/valid-attachments', 'cni.dev/attachments'] as const;

/**
 * The value of `field` in `obj` the way Go's encoding/json finds it (libcni and the reference
 * plugins decode GC input with it): the exact key first, else any key equal under case folding.
 */
function goField(obj: Record<string, unknown>, field: string): { found: boolean; value: unknown } {
  if (Object.hasOwn(obj, field)) return { found: true, value: obj[field] };
  const lower = field.toLowerCase();
  let found: { found: boolean; value: unknown } = { found: false, value: undefined };
  // encoding/json keeps the last of several case-folded matches.
  for (const [k, v] of Object.entries(obj)) if (k.toLowerCase() === lower) found = { found: true, value: v };
  return found;
}

function entry(value: unknown, i: number): ValidAttachment {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ValidAttachmentsError(`entry ${i} must be an object {"containerID": ..., "ifname": ...}`);
  const obj = value as Record<string, unknown>;
  const id = goField(obj, 'containerID');
  const ifName = goField(obj, 'ifname');
  if (typeof id.value !== 'string' || id.value === '')
    throw new ValidAttachmentsError(`entry ${i} has no "containerID" string`);
  if (ifName.found && typeof ifName.value !== 'string')
    throw new ValidAttachmentsError(`entry ${i}: "ifname" must be a string`);
  return { containerId: id.value, ifName: typeof ifName.value === 'string' ? ifName.value : '' };
}

/**
 * The list from a GC request's plugin object: `cni.dev/valid-attachments`, else the tag-era
 * `cni.dev/attachments` (libcni sends both, cni#1101). Missing, null, not a list, or an entry
 * without a container ID: ValidAttachmentsError. An empty list is valid ("nothing is in use").
 */
export function parseValidAttachments(plugin: Record<string, unknown>): ValidAttachment[] {
  for (const key of KEYS) {
    const { found, value } = goField(plugin, key);
    if (!found) continue;
    if (!Array.isArray(value))
      throw new ValidAttachmentsError(
        `"${key}" must be a list, got ${value === null ? 'null' : typeof value}`,
      );
    return value.map(entry);
  }
  throw new ValidAttachmentsError('missing from the GC request');
}
