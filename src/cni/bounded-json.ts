import { jsonNestingDepth } from '../json/json-nesting-depth.ts';
import { CniError, CniErrorCode } from './cni-error.ts';

/** Network configurations are a few KiB; anything near this is a mistake or an attack. */
export const MAX_CONFIG_BYTES = 1024 * 1024;
/** A conflist with ipam ranges nests about 6 deep; the limit protects recursive consumers. */
export const MAX_JSON_DEPTH = 64;

/**
 * Decodes untrusted JSON text with a size and nesting limit, so that later recursive walks
 * (validation, conversion, JSON.stringify) cannot blow the stack. Throws CniError code 6.
 */
export function parseBoundedJson(
  input: string | Buffer,
  what: string,
  maxBytes = MAX_CONFIG_BYTES,
  /** false for files that are not the caller's own input: the error then never quotes them. */
  quoteInput = true,
): unknown {
  const size = typeof input === 'string' ? Buffer.byteLength(input) : input.length;
  if (size > maxBytes) {
    throw new CniError(
      CniErrorCode.DecodingFailure,
      `${what} is too large`,
      `${size} bytes, the limit is ${maxBytes} bytes`,
    );
  }
  const text = typeof input === 'string' ? input : input.toString('utf8');
  const depth = jsonNestingDepth(text);
  if (depth > MAX_JSON_DEPTH) {
    throw new CniError(
      CniErrorCode.DecodingFailure,
      `${what} is nested too deeply`,
      `depth ${depth}, the limit is ${MAX_JSON_DEPTH}`,
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new CniError(
      CniErrorCode.DecodingFailure,
      `failed to decode ${what}`,
      quoteInput ? (err instanceof Error ? err.message : String(err)) : 'not valid JSON (content not shown)',
      { cause: err },
    );
  }
}

export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
