import { Lexer, parseAllDocuments } from 'yaml';

/** Manifests are small; a bigger file is refused before parsing (YAML and JSON alike). */
export const MANIFEST_MAX_BYTES = 4 * 1024 * 1024;
/** Few real manifests use aliases; a low limit defuses "billion laughs" documents. */
export const MANIFEST_MAX_ALIAS_COUNT = 100;
/**
 * Flow collections (`[..]`, `{..}`, JSON) nested deeper than this are refused before parsing: the
 * YAML composer recurses per level, and a few hundred KiB of brackets cost it seconds and
 * hundreds of MiB before it overflows the stack. Real manifests nest about ten levels.
 */
export const MANIFEST_MAX_FLOW_DEPTH = 100;

export class ManifestError extends Error {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`${file}: ${reason}`);
    this.name = 'ManifestError';
  }
}

/** One YAML document of a file: its value, or why it could not be read (1-based `index`). */
export type ManifestDocument =
  | { index: number; value: unknown; error?: undefined }
  | { index: number; error: string; offset?: number };

/**
 * Every document of a YAML (or JSON) text, each read on its own so that one bad document does
 * not hide the others. `prettyErrors` stays off: building its code frame for a deeply nested
 * document exhausts memory (a fatal crash, not an exception). Callers check the size first.
 */
export function readManifestDocuments(text: string): ManifestDocument[] {
  const depth = flowDepth(text);
  if (depth > MANIFEST_MAX_FLOW_DEPTH)
    return [
      {
        index: 1,
        error: `flow collections nest ${depth} levels deep, the limit is ${MANIFEST_MAX_FLOW_DEPTH} (not parsed)`,
      },
    ];
  const docs = parseAllDocuments(text, { prettyErrors: false, uniqueKeys: true });
  const list = Array.isArray(docs) ? docs : [docs];
  return list.map((doc, i) => {
    const [error] = doc.errors;
    if (error) return { index: i + 1, error: error.message, offset: error.pos[0] };
    try {
      return { index: i + 1, value: doc.toJS({ maxAliasCount: MANIFEST_MAX_ALIAS_COUNT }) as unknown };
    } catch (err) {
      return { index: i + 1, error: err instanceof Error ? err.message : String(err) };
    }
  });
}

/** Deepest nesting of flow collections, from the YAML lexer (iterative; quoting and block scalars handled). */
function flowDepth(text: string): number {
  let depth = 0;
  let max = 0;
  for (const token of new Lexer().lex(text)) {
    if (token === '[' || token === '{') max = Math.max(max, ++depth);
    else if (token === ']' || token === '}') depth--;
  }
  return max;
}

/**
 * Every Kubernetes object in a YAML or JSON text: multi-document YAML, and the items of `List`
 * kinds. Empty documents are skipped; the first bad document is an error naming the file.
 */
export function parseManifestDocuments(text: string, file: string): Record<string, unknown>[] {
  if (Buffer.byteLength(text) > MANIFEST_MAX_BYTES)
    throw new ManifestError(file, `larger than ${MANIFEST_MAX_BYTES} bytes`);
  const out: Record<string, unknown>[] = [];
  for (const doc of readManifestDocuments(text)) {
    if (doc.error !== undefined) throw new ManifestError(file, `document ${doc.index}: ${doc.error}`);
    const value = doc.value;
    if (value === null || value === undefined) continue;
    if (typeof value !== 'object' || Array.isArray(value))
      throw new ManifestError(file, `document ${doc.index} is not a Kubernetes object (a mapping)`);
    const obj = value as Record<string, unknown>;
    if (typeof obj['kind'] === 'string' && obj['kind'].endsWith('List') && Array.isArray(obj['items'])) {
      for (const item of obj['items'] as unknown[])
        if (item && typeof item === 'object' && !Array.isArray(item))
          out.push(item as Record<string, unknown>);
    } else out.push(obj);
  }
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
