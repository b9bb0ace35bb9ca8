import { parseAllDocuments } from 'yaml';

/** Manifests are small; a bigger file is refused before parsing (YAML and JSON alike). */
export const MANIFEST_MAX_BYTES = 4 * 1024 * 1024;
/** Few real manifests use aliases; a low limit defuses "billion laughs" documents. */
const MAX_ALIAS_COUNT = 100;

export class ManifestError extends Error {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`${file}: ${reason}`);
    this.name = 'ManifestError';
  }
}

/**
 * Every Kubernetes object in a YAML or JSON text: multi-document YAML, and the items of `List`
 * kinds. Empty documents are skipped; anything that is not a mapping is an error naming the file.
 */
export function parseManifestDocuments(text: string, file: string): Record<string, unknown>[] {
  if (Buffer.byteLength(text) > MANIFEST_MAX_BYTES)
    throw new ManifestError(file, `larger than ${MANIFEST_MAX_BYTES} bytes`);
  const out: Record<string, unknown>[] = [];
  const docs = parseAllDocuments(text, { uniqueKeys: true });
  const list = Array.isArray(docs) ? docs : [docs];
  list.forEach((doc, i) => {
    if (doc.errors.length > 0) throw new ManifestError(file, `document ${i + 1}: ${doc.errors[0]!.message}`);
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (err) {
      throw new ManifestError(file, `document ${i + 1}: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (value === null || value === undefined) return;
    if (typeof value !== 'object' || Array.isArray(value))
      throw new ManifestError(file, `document ${i + 1} is not a Kubernetes object (a mapping)`);
    const obj = value as Record<string, unknown>;
    if (typeof obj['kind'] === 'string' && obj['kind'].endsWith('List') && Array.isArray(obj['items'])) {
      for (const item of obj['items'] as unknown[])
        if (item && typeof item === 'object' && !Array.isArray(item))
          out.push(item as Record<string, unknown>);
    } else out.push(obj);
  });
  return out;
}

export function objectRef(obj: Record<string, unknown>): { kind: string; namespace: string; name: string } {
  const meta = (obj['metadata'] ?? {}) as Record<string, unknown>;
  return {
    kind: typeof obj['kind'] === 'string' ? obj['kind'] : '?',
    namespace:
      typeof meta['namespace'] === 'string' && meta['namespace'] !== '' ? meta['namespace'] : 'default',
    name: typeof meta['name'] === 'string' ? meta['name'] : '?',
  };
}
