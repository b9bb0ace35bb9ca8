import type { CniCommand } from './cni-env.ts';
import { CniErrorCode } from './cni-error.ts';

/** Why running a delegate failed; stable strings for logs, metrics and tests. */
export type DelegateFailure =
  | 'plugin-error' // the plugin ran and reported an error (its code is kept)
  | 'not-found' // no binary for the type in CNI_PATH
  | 'exec-failed' // the binary could not be started
  | 'timeout' // killed after the time limit
  | 'crashed' // died from a signal
  | 'bad-output' // non-zero exit without a usable error, or an undecodable result
  | 'aborted'; // the caller cancelled

export interface DelegateErrorInit {
  code: number;
  msg: string;
  details?: string | undefined;
  pluginType: string;
  command: CniCommand;
  reason: DelegateFailure;
  /** Name of the network (list) the plugin ran for, when known. */
  network?: string | undefined;
  stderr?: string | undefined;
}

/**
 * A delegate plugin failed. `code` is the plugin's own CNI code when it printed one (SPEC §5
 * "Error"), otherwise ours. The message follows libcni: `plugin type="bridge" failed (add): …`.
 */
export class DelegateError extends Error {
  readonly code: number;
  readonly msg: string;
  readonly details: string | undefined;
  readonly pluginType: string;
  readonly command: CniCommand;
  readonly reason: DelegateFailure;
  readonly network: string | undefined;
  readonly stderr: string | undefined;

  constructor(init: DelegateErrorInit, options?: { cause?: unknown }) {
    const where = init.network ? ` for network ${JSON.stringify(init.network)}` : '';
    const text = init.details ? `${init.msg}; ${init.details}` : init.msg;
    super(
      `plugin type=${JSON.stringify(init.pluginType)}${where} failed (${init.command.toLowerCase()}): ${text}`,
      options,
    );
    this.name = 'DelegateError';
    this.code = init.code;
    this.msg = init.msg;
    this.details = init.details;
    this.pluginType = init.pluginType;
    this.command = init.command;
    this.reason = init.reason;
    this.network = init.network;
    this.stderr = init.stderr;
  }

  /** Whether trying the same operation again may succeed. */
  get retryable(): boolean {
    return this.reason === 'timeout' || this.reason === 'aborted' || this.code === CniErrorCode.TryAgainLater;
  }
}

/**
 * Several plugins of one list failed in an operation that continues past failures (DEL, GC).
 * `code` is the first failure's code, so a boundary can still print one CNI error.
 */
export class NetworkListError extends Error {
  readonly code: number;
  readonly network: string;
  readonly command: CniCommand;
  readonly errors: readonly Error[];

  constructor(network: string, command: CniCommand, errors: readonly Error[]) {
    const parts = errors.map((e) => e.message).join('; ');
    super(`${command} of network ${JSON.stringify(network)} failed for ${errors.length} step(s): ${parts}`, {
      cause: errors[0],
    });
    this.name = 'NetworkListError';
    this.network = network;
    this.command = command;
    this.errors = errors;
    const first = errors[0] as { code?: unknown } | undefined;
    this.code = typeof first?.code === 'number' ? first.code : CniErrorCode.Internal;
  }
}
