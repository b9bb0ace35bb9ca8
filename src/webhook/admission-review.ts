import { CniError } from '../cni/cni-error.ts';
import { isJsonObject, parseBoundedJson } from '../cni/bounded-json.ts';
import { escapeForMessage } from '../spec/spec-error.ts';

/**
 * The admission.k8s.io/v1 AdmissionReview wire form, pure: the API server's request in, our
 * verdict out (https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/).
 */

export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';

/**
 * The largest review we read. The API server takes request bodies up to 3 MiB and sends the
 * object (and for an UPDATE the old one) inside the review: twice that, with room for escaping.
 */
export const MAX_REVIEW_BYTES = 8 * 1024 * 1024;
/** At most this many problems go into a denial; the rest are counted (`multinet validate` lists all). */
export const MAX_DENIAL_LINES = 20;
/** The API server passes warnings to the client as HTTP headers: few and short. */
export const MAX_WARNINGS = 10;
export const MAX_WARNING_CHARS = 400;

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

/** What of `request` the checks need. */
export interface AdmissionRequest {
  uid: string;
  kind: GroupVersionKind;
  operation: string;
  /** Empty for cluster-scoped objects. */
  namespace: string;
  /** Empty for a CREATE with generateName. */
  name: string;
  /** The object as it would be stored (null for DELETE). */
  object: unknown;
}

export interface Verdict {
  allowed: boolean;
  /** Why it is refused: one `multinet validate` line per problem. */
  problems: string[];
  warnings: string[];
}

/** A review we cannot read: answered 400, so the API server applies the failurePolicy. */
export class AdmissionReviewError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AdmissionReviewError';
  }
}

function text(obj: Record<string, unknown>, key: string, where: string, optional = false): string {
  const v = obj[key];
  if (optional && (v === undefined || v === null)) return '';
  if (typeof v !== 'string') throw new AdmissionReviewError(`${where}.${key}: must be a string`);
  return v;
}

/** Decodes the body the API server posts, within MAX_REVIEW_BYTES and the JSON depth bound. */
export function parseAdmissionReview(body: string | Buffer, maxBytes = MAX_REVIEW_BYTES): AdmissionRequest {
  let review: unknown;
  try {
    review = parseBoundedJson(body, 'the AdmissionReview', maxBytes);
  } catch (err) {
    if (err instanceof CniError) throw new AdmissionReviewError(err.message, { cause: err });
    throw err;
  }
  if (!isJsonObject(review)) throw new AdmissionReviewError('the AdmissionReview must be a JSON object');
  if (review['apiVersion'] !== ADMISSION_API_VERSION || review['kind'] !== 'AdmissionReview')
    throw new AdmissionReviewError(
      `expected apiVersion ${ADMISSION_API_VERSION}, kind AdmissionReview (set admissionReviewVersions: [v1])`,
    );
  const request = review['request'];
  if (!isJsonObject(request)) throw new AdmissionReviewError('request: missing or not an object');
  const kind = request['kind'];
  if (!isJsonObject(kind)) throw new AdmissionReviewError('request.kind: missing or not an object');
  return {
    uid: text(request, 'uid', 'request'),
    kind: {
      group: text(kind, 'group', 'request.kind', true),
      version: text(kind, 'version', 'request.kind'),
      kind: text(kind, 'kind', 'request.kind'),
    },
    operation: text(request, 'operation', 'request'),
    namespace: text(request, 'namespace', 'request', true),
    name: text(request, 'name', 'request', true),
    object: request['object'] ?? null,
  };
}

/** The denial's message: the problems, one a line, as `multinet validate` prints them. */
export function denialMessage(problems: readonly string[]): string {
  const shown = problems.slice(0, MAX_DENIAL_LINES);
  const more = problems.length - shown.length;
  return [...shown, ...(more > 0 ? [`... and ${more} more (multinet validate lists them all)`] : [])].join(
    '\n',
  );
}

/** The AdmissionReview answered for `uid`. */
export function toAdmissionReview(uid: string, verdict: Verdict): Record<string, unknown> {
  const warnings = verdict.warnings.slice(0, MAX_WARNINGS).map((w) => escapeForMessage(w, MAX_WARNING_CHARS));
  const response: Record<string, unknown> = { uid, allowed: verdict.allowed };
  if (!verdict.allowed)
    response['status'] = {
      code: 403,
      reason: 'Forbidden',
      message: denialMessage(verdict.problems),
    };
  if (warnings.length > 0) response['warnings'] = warnings;
  return { apiVersion: ADMISSION_API_VERSION, kind: 'AdmissionReview', response };
}
