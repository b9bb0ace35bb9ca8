import { isBlank, trimSpace } from './trim-space.ts';
import { dns1123LabelProblem } from './dns-1123.ts';
import { jsonNestingDepth } from '../json/json-nesting-depth.ts';
import type { NetworkSelectionElement } from './network-selection-element.ts';
import { SpecError, escapeForMessage, quoteValue } from './spec-error.ts';
import { validateNetworkSelections } from './validate-network-selection.ts';
import { fromWireSelectionElement } from './wire-selection-element.ts';

/** Kubernetes caps all annotations of an object at 256 KiB together; one value cannot be larger. */
export const NETWORKS_ANNOTATION_MAX_BYTES = 256 * 1024;
export const NETWORKS_ANNOTATION_MAX_ELEMENTS = 1000;
/** cni-args may nest, but nothing legitimate nests this deep. */
export const NETWORKS_ANNOTATION_MAX_DEPTH = 64;

/**
 * Parses the pod's networks annotation (spec §4.1) into validated elements, namespaces filled in.
 *
 * Form detection follows the Go client: any `[`, `{` or `"` anywhere means the JSON list form
 * (§4.1.2); otherwise the text form (§4.1.1) `[namespace/]name[@interface]`, comma separated,
 * whitespace around every piece ignored. An empty or blank value is "no request" and gives [].
 *
 * Stricter than the Go client, deliberately (docs/annotations.md): empty items (`a,,b`, `a,`), an
 * empty namespace (`/a`) or interface (`a@`), interface names that Linux refuses, and every value
 * rule of validate-network-selection.ts all throw a SpecError instead of producing an element.
 */
export function parseNetworksAnnotation(value: string, podNamespace: string): NetworkSelectionElement[] {
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > NETWORKS_ANNOTATION_MAX_BYTES) {
    throw annotationError(`is ${bytes} bytes; the limit is ${NETWORKS_ANNOTATION_MAX_BYTES}`);
  }
  const nsProblem = dns1123LabelProblem(podNamespace);
  if (nsProblem !== undefined)
    throw annotationError(`pod namespace ${quoteValue(podNamespace)}: ${nsProblem}`);
  if (isBlank(value)) return [];
  const elements = /[[{"]/.test(value)
    ? parseJsonForm(value, podNamespace)
    : parseTextForm(value, podNamespace);
  validateNetworkSelections(elements);
  return elements;
}

function parseJsonForm(value: string, podNamespace: string): NetworkSelectionElement[] {
  if (jsonNestingDepth(value) > NETWORKS_ANNOTATION_MAX_DEPTH) {
    throw annotationError(`JSON nests deeper than ${NETWORKS_ANNOTATION_MAX_DEPTH} levels`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (e) {
    throw annotationError(`not valid JSON: ${escapeForMessage((e as Error).message)}`, e);
  }
  if (!Array.isArray(parsed)) {
    throw annotationError(
      'JSON form must be a list such as [{"name": "my-net"}]; a bare object or string is not accepted (spec §4.1.2)',
    );
  }
  checkCount(parsed.length);
  return parsed.map((raw, index) => fromWireSelectionElement(raw, index, podNamespace));
}

function parseTextForm(value: string, podNamespace: string): NetworkSelectionElement[] {
  const items = value.split(',');
  checkCount(items.length);
  return items.map((item, index) => {
    const trimmed = trimSpace(item);
    const fail = (reason: string): never => {
      throw new SpecError({
        code: 'INVALID_NETWORKS_ANNOTATION',
        subject: 'networks annotation',
        element: index,
        value: trimmed === '' ? undefined : trimmed,
        reason,
      });
    };
    if (trimmed === '') fail("empty item (a stray ','?)");
    const slashParts = trimmed.split('/');
    if (slashParts.length > 2) fail("more than one '/' (expected [namespace/]name[@interface])");
    const rest = slashParts.length === 2 ? (slashParts[1] as string) : trimmed;
    const atParts = rest.split('@');
    if (atParts.length > 2) fail("more than one '@' (expected [namespace/]name[@interface])");
    const name = trimSpace(atParts[0] as string);
    if (name === '') fail('empty network name');
    const element: NetworkSelectionElement = { name, namespace: podNamespace };
    if (slashParts.length === 2) {
      const namespace = trimSpace(slashParts[0] as string);
      if (namespace === '') fail("empty namespace before '/'");
      element.namespace = namespace;
    }
    if (atParts.length === 2) {
      const ifName = trimSpace(atParts[1] as string);
      if (ifName === '') fail("empty interface name after '@'");
      element.interface = ifName;
    }
    return element;
  });
}

function checkCount(count: number): void {
  if (count > NETWORKS_ANNOTATION_MAX_ELEMENTS) {
    throw annotationError(`has ${count} elements; the limit is ${NETWORKS_ANNOTATION_MAX_ELEMENTS}`);
  }
}

function annotationError(reason: string, cause?: unknown): SpecError {
  return new SpecError({
    code: 'INVALID_NETWORKS_ANNOTATION',
    subject: 'networks annotation',
    reason,
    cause,
  });
}
