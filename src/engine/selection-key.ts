import type { NetworkSelectionElement } from '../spec/network-selection-element.ts';

/**
 * The identity of one element of a pod's networks annotation, as a plan records it (hot-plug,
 * docs/hotplug.md): the whole element in a canonical JSON (keys sorted at every level), so two
 * spellings of the same request (text or JSON form, keys in another order, the namespace left
 * out or written) have one key, and any change of a key (another `ips`, `mac`, `interface`...)
 * makes it a different request.
 */
export function selectionKey(sel: NetworkSelectionElement): string {
  return canonical(sel);
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}
