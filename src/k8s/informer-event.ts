/**
 * Applying one watch event to an informer's store (pure apart from the Map it is given), so the
 * rules are unit-tested without an API server. Kubernetes watch semantics: ADDED / MODIFIED put,
 * DELETED removes, BOOKMARK only moves the resourceVersion, ERROR carries a Status (410 Gone
 * means our resourceVersion is too old: re-list).
 */
export type WatchEventOutcome<T = unknown> =
  | {
      kind: 'applied';
      resourceVersion: string | undefined;
      key: string;
      /** The object as stored, or as it was before a DELETED removed it. */
      value: T | undefined;
      deleted: boolean;
    }
  | { kind: 'bookmark'; resourceVersion: string | undefined }
  | { kind: 'gone' }
  | { kind: 'error'; message: string }
  | { kind: 'ignored' };

export function objectKey(obj: Record<string, unknown>): string | undefined {
  const meta = obj['metadata'] as Record<string, unknown> | undefined;
  const name = meta?.['name'];
  if (typeof name !== 'string' || name === '') return undefined;
  const ns = meta?.['namespace'];
  return `${typeof ns === 'string' ? ns : ''}/${name}`;
}

export function resourceVersionOf(obj: Record<string, unknown>): string | undefined {
  const rv = (obj['metadata'] as Record<string, unknown> | undefined)?.['resourceVersion'];
  return typeof rv === 'string' && rv !== '' ? rv : undefined;
}

export function applyWatchEvent<T>(
  store: Map<string, T>,
  line: string,
  transform: (obj: Record<string, unknown>) => T,
): WatchEventOutcome<T> {
  let event: { type?: unknown; object?: unknown };
  try {
    event = JSON.parse(line) as typeof event;
  } catch {
    return { kind: 'error', message: `undecodable watch line: ${line.slice(0, 120)}` };
  }
  const obj = event.object;
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return { kind: 'ignored' };
  const object = obj as Record<string, unknown>;
  switch (event.type) {
    case 'ADDED':
    case 'MODIFIED':
    case 'DELETED': {
      const key = objectKey(object);
      if (key === undefined) return { kind: 'ignored' };
      const deleted = event.type === 'DELETED';
      let value: T | undefined;
      if (deleted) {
        value = store.get(key);
        store.delete(key);
      } else {
        value = transform(object);
        store.set(key, value);
      }
      return { kind: 'applied', resourceVersion: resourceVersionOf(object), key, value, deleted };
    }
    case 'BOOKMARK':
      return { kind: 'bookmark', resourceVersion: resourceVersionOf(object) };
    case 'ERROR': {
      const code = object['code'];
      if (code === 410) return { kind: 'gone' };
      return { kind: 'error', message: `watch error ${String(code)}: ${String(object['message'] ?? '')}` };
    }
    default:
      return { kind: 'ignored' };
  }
}
