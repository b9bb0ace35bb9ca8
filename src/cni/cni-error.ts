/**
 * The one wire shape of a CNI failure (CNI spec §5 "Error"), produced only at the two boundaries
 * (the thin/shim binary and the daemon handler). Inner layers throw typed errors with `cause`.
 */
export const CniErrorCode = {
  Unknown: 0,
  IncompatibleVersion: 1,
  UnsupportedField: 2,
  UnknownContainer: 3,
  InvalidEnvironment: 4,
  IoFailure: 5,
  DecodingFailure: 6,
  InvalidNetworkConfig: 7,
  InvalidNetNs: 8,
  TryAgainLater: 11,
  NotAvailable: 50,
  NotAvailableLimited: 51,
  Internal: 999,
} as const;

/**
 * The code a meta-plugin may report as its own when a delegate failed with it (SPEC §5 "Error"): a
 * well-known code (1-8, 11, 50, 51; 8 and 999 are libcni's) means the same whoever reports it, and
 * 100 and up are plugin-specific: multinet defines none there, so one in a multinet error is always
 * the delegate's (the msg says DELEGATE_FAILED, the details name the plugin). Anything else would
 * make the runtime read a meaning nobody gave: 0, negatives, fractions, codes of 1-99 the spec
 * reserves without defining them, and codes a Go runtime cannot decode into its uint32-sized
 * field. Those give undefined: the boundary then reports 999, and the plugin's text is kept.
 */
export function relayableCode(code: unknown): number | undefined {
  if (typeof code !== 'number' || !Number.isInteger(code) || code < 1 || code > 0xffffffff) return undefined;
  if (code >= 100 || WELL_KNOWN_CODES.has(code)) return code;
  return undefined;
}

const WELL_KNOWN_CODES: ReadonlySet<number> = new Set([1, 2, 3, 4, 5, 6, 7, 8, 11, 50, 51]);

export type CniErrorCodeValue = (typeof CniErrorCode)[keyof typeof CniErrorCode];

export interface CniErrorJson {
  cniVersion?: string;
  code: number;
  msg: string;
  details?: string;
}

export class CniError extends Error {
  readonly code: number;
  readonly msg: string;
  readonly details: string | undefined;

  constructor(code: number, msg: string, details?: string, options?: { cause?: unknown }) {
    super(details ? `${msg}; ${details}` : msg, options);
    this.name = 'CniError';
    this.code = code;
    this.msg = msg;
    this.details = details;
  }

  toJSON(cniVersion?: string): CniErrorJson {
    const out: CniErrorJson = { code: this.code, msg: this.msg };
    if (cniVersion) out.cniVersion = cniVersion;
    if (this.details) out.details = this.details;
    return out;
  }
}
