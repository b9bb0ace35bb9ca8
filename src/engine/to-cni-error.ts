import { CniError, CniErrorCode } from '../cni/cni-error.ts';
import { ConfigError } from '../config/multinet-config.ts';
import { EngineError } from './engine-error.ts';

/**
 * Maps whatever an operation threw to the one wire shape (CNI spec §5 "Error"). Only the two
 * boundaries call this: the thin plugin's main and the daemon's request handler.
 */
export function toCniError(err: unknown): CniError {
  if (err instanceof CniError) return err;
  if (err instanceof EngineError) {
    const msg = err.retryable ? `${err.code} (try again later)` : err.code;
    return new CniError(err.cniCode, `multinet: ${msg}`, err.message, { cause: err });
  }
  if (err instanceof ConfigError)
    return new CniError(CniErrorCode.InvalidNetworkConfig, 'multinet: invalid config', err.message);
  const text = err instanceof Error ? err.message : String(err);
  return new CniError(CniErrorCode.Internal, 'multinet: internal error', text, { cause: err });
}
