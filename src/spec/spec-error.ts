/**
 * The typed error of src/spec. Every rejection of user input (pod annotations, network definitions,
 * CNI configuration text, network-status text) is a SpecError with a stable `code`, the place of the
 * problem (element, key, value) and a `reason` in plain words, so the message can be shown to a pod
 * owner as it is.
 */

export type SpecErrorCode =
  | 'INVALID_NETWORKS_ANNOTATION'
  | 'INVALID_NETWORK_DEFINITION'
  | 'INVALID_NETWORK_CONFIG'
  | 'NETWORK_CONFIG_NOT_FOUND'
  | 'INVALID_NETWORK_STATUS'
  | 'INVALID_DEVICE_INFO';

export interface SpecErrorInit {
  code: SpecErrorCode;
  /** What was being read, e.g. `networks annotation` or `NetworkAttachmentDefinition ns/name`. */
  subject: string;
  /** 0-based index of the element in the networks annotation. */
  element?: number;
  /** The element's `name`, when known, to make the index readable. */
  elementName?: string;
  /** The offending key (wire spelling) or field path. */
  key?: string;
  /** The offending value; echoed truncated and escaped. */
  value?: unknown;
  reason: string;
  cause?: unknown;
}

const VALUE_ECHO_LIMIT = 64;

export class SpecError extends Error {
  readonly code: SpecErrorCode;
  readonly subject: string;
  readonly element: number | undefined;
  readonly elementName: string | undefined;
  readonly key: string | undefined;
  readonly value: unknown;
  readonly reason: string;
  /** The message without its subject: `element 2 ("x"): key "mac" value "zz": reason`. */
  readonly detail: string;
  /**
   * Whether trying again later can help: only a missing on-disk configuration can appear later
   * (another DaemonSet may still be writing it); malformed input stays malformed.
   */
  readonly retryable: boolean;

  constructor(init: SpecErrorInit) {
    const element = init.element === undefined ? undefined : formatElement(init.element, init.elementName);
    const rest = formatRest(init);
    super(
      `${init.subject}${element ? ` ${element}` : ''}: ${rest}`,
      init.cause === undefined ? undefined : { cause: init.cause },
    );
    this.name = 'SpecError';
    this.code = init.code;
    this.subject = init.subject;
    this.element = init.element;
    this.elementName = init.elementName;
    this.key = init.key;
    this.value = init.value;
    this.reason = init.reason;
    this.detail = element ? `${element}: ${rest}` : rest;
    this.retryable = init.code === 'NETWORK_CONFIG_NOT_FOUND';
  }
}

function formatElement(index: number, name: string | undefined): string {
  return `element ${String(index)}${name === undefined ? '' : ` (${quoteValue(name)})`}`;
}

function formatRest(init: SpecErrorInit): string {
  const where: string[] = [];
  if (init.key !== undefined) where.push(`key ${quoteValue(init.key)}`);
  if (init.value !== undefined) where.push(`value ${quoteValue(init.value)}`);
  return where.length > 0 ? `${where.join(' ')}: ${init.reason}` : init.reason;
}

/**
 * Renders any value for an error message: JSON-quoted, cut to a short prefix, every character outside
 * printable ASCII escaped. Input is hostile: it may hold terminal escapes, bidi overrides or megabytes.
 */
export function quoteValue(value: unknown): string {
  let text: string;
  let truncated = false;
  if (typeof value === 'string') {
    const cut = Array.from(value.slice(0, VALUE_ECHO_LIMIT * 2))
      .slice(0, VALUE_ECHO_LIMIT)
      .join('');
    truncated = cut.length < value.length;
    text = JSON.stringify(cut);
  } else {
    text = shortJson(value);
    if (text.length > VALUE_ECHO_LIMIT) {
      text = text.slice(0, VALUE_ECHO_LIMIT);
      truncated = true;
    }
  }
  const escaped = text.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return truncated ? `${escaped}...` : escaped;
}

function shortJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? typeof value;
  } catch {
    // Cyclic or too deep to serialise: the type is all we can say.
    return Array.isArray(value) ? 'array' : typeof value;
  }
}

/**
 * Makes foreign text (a JSON or YAML parser's message, which may quote the input) safe to embed in
 * a message: non-printable-ASCII characters escaped, length capped.
 */
export function escapeForMessage(text: string, limit = 200): string {
  const cut = text.length > limit ? `${text.slice(0, limit)}...` : text;
  return cut.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
