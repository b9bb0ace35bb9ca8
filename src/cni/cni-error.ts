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
