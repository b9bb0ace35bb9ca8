import { isJsonObject, parseBoundedJson } from './bounded-json.ts';
import type { CniCommand } from './cni-env.ts';
import { CniErrorCode, type CniError } from './cni-error.ts';
import { DelegateError, type DelegateFailure } from './delegate-error.ts';
import type { PluginExecOutcome, PluginRunner } from './plugin-runner.ts';
import { parseResult, type CniResult } from './result.ts';

export interface InvokeDeps {
  runner: PluginRunner;
  timeoutMs: number;
  /** Pause before re-running after "text file busy" (libcni: 1 s, up to 6 runs). */
  retryDelayMs?: number;
  /** Receives a successful plugin's stderr (pkg/invoke copies it to the caller's stderr). */
  onStderr?: (pluginType: string, text: string) => void;
}

export interface InvokeRequest {
  pluginType: string;
  /** The located binary. */
  pluginPath: string;
  command: CniCommand;
  env: Record<string, string>;
  stdin: string;
  /** For error messages. */
  network?: string | undefined;
  signal?: AbortSignal | undefined;
}

const MAX_RUNS = 6;
const MAX_MESSAGE = 4096;

/** Runs a plugin (pkg/invoke RawExec.ExecPlugin); resolves with stdout on exit 0, else throws DelegateError. */
export async function runPlugin(deps: InvokeDeps, req: InvokeRequest): Promise<string> {
  const fail = (reason: DelegateFailure, code: number, msg: string, details?: string, cause?: unknown) =>
    new DelegateError(
      { code, msg, details, reason, pluginType: req.pluginType, command: req.command, network: req.network },
      { cause },
    );
  let outcome: PluginExecOutcome | undefined;
  for (let run = 1; outcome === undefined; run++) {
    try {
      outcome = await deps.runner.exec({
        path: req.pluginPath,
        env: req.env,
        stdin: req.stdin,
        timeoutMs: deps.timeoutMs,
        ...(req.signal ? { signal: req.signal } : {}),
      });
      // Behind a wrapper (nsenter) the failed exec shows up as the wrapper's stderr instead.
      if (isTextFileBusyOutcome(outcome) && run < MAX_RUNS) {
        outcome = undefined;
        await sleep(deps.retryDelayMs ?? 1000, req.signal);
      }
    } catch (err) {
      if (req.signal?.aborted) throw fail('aborted', CniErrorCode.TryAgainLater, 'cancelled', undefined, err);
      // A binary being replaced (upgrade in progress) cannot be executed for a moment.
      if (isTextFileBusy(err) && run < MAX_RUNS) {
        await sleep(deps.retryDelayMs ?? 1000, req.signal);
        continue;
      }
      const text = err instanceof Error ? err.message : String(err);
      throw fail('exec-failed', CniErrorCode.Internal, `cannot execute ${req.pluginPath}`, text, err);
    }
  }
  if (outcome.timedOut) {
    throw fail('timeout', CniErrorCode.TryAgainLater, `timed out after ${deps.timeoutMs} ms and was killed`);
  }
  if (outcome.exitCode === 0) {
    if (outcome.stderr !== '') deps.onStderr?.(req.pluginType, outcome.stderr);
    return outcome.stdout;
  }
  throw errorFromOutcome(outcome, req);
}

/** Runs ADD and parses its result (pkg/invoke ExecPluginWithResult); a missing version becomes the config's. */
export async function runPluginWithResult(
  deps: InvokeDeps,
  req: InvokeRequest,
  configVersion: string,
): Promise<CniResult> {
  const stdout = await runPlugin(deps, req);
  const base = { pluginType: req.pluginType, command: req.command, network: req.network } as const;
  if (stdout.trim() === '') {
    throw new DelegateError({
      ...base,
      reason: 'bad-output',
      code: CniErrorCode.DecodingFailure,
      msg: 'plugin succeeded but printed no result',
    });
  }
  try {
    return parseResult(stdout, configVersion);
  } catch (err) {
    const e = err as CniError;
    throw new DelegateError(
      {
        ...base,
        reason: 'bad-output',
        code: e.code,
        msg: e.msg,
        details: clip(`${e.details ?? ''} in ${stdout}`),
      },
      { cause: err },
    );
  }
}

/**
 * The error of a failed run (pkg/invoke pluginErr): the JSON error object on stdout; when
 * stdout is empty, stderr (as a JSON error object if it is one, else as text); a signal or
 * undecodable stdout is reported as such.
 */
export function errorFromOutcome(outcome: PluginExecOutcome, req: InvokeRequest): DelegateError {
  const base = {
    pluginType: req.pluginType,
    command: req.command,
    network: req.network,
    stderr: outcome.stderr,
  };
  const status = outcome.signal ? `killed by signal ${outcome.signal}` : `exit status ${outcome.exitCode}`;
  const fromJson = (text: string) => {
    const e = decodeErrorObject(text);
    return e && new DelegateError({ ...base, reason: 'plugin-error', ...e });
  };
  const stdout = outcome.stdout.trim();
  const stderr = outcome.stderr.trim();
  if (stdout !== '') {
    const parsed = fromJson(stdout);
    if (parsed) return parsed;
  } else if (stderr !== '') {
    const parsed = fromJson(stderr);
    if (parsed) return parsed;
  }
  const reason: DelegateFailure = outcome.signal ? 'crashed' : 'bad-output';
  const code = CniErrorCode.Internal;
  if (stdout !== '') {
    const msg = `netplugin failed (${status}) but its diagnostic message is not a CNI error object`;
    return new DelegateError({ ...base, reason, code, msg, details: clip(JSON.stringify(stdout)) });
  }
  if (stderr !== '') {
    return new DelegateError({
      ...base,
      reason,
      code,
      msg: `netplugin failed (${status})`,
      details: clip(stderr),
    });
  }
  return new DelegateError({
    ...base,
    reason,
    code,
    msg: `netplugin failed with no error message (${status})`,
  });
}

function decodeErrorObject(text: string): { code: number; msg: string; details?: string } | undefined {
  let value: unknown;
  try {
    value = parseBoundedJson(text, 'error');
  } catch {
    return undefined;
  }
  if (!isJsonObject(value) || typeof value.msg !== 'string') return undefined;
  const code =
    typeof value.code === 'number' && Number.isInteger(value.code) && value.code >= 0
      ? value.code
      : CniErrorCode.Internal;
  const details = typeof value.details === 'string' && value.details !== '' ? value.details : undefined;
  return { code, msg: clip(value.msg), ...(details ? { details: clip(details) } : {}) };
}

function isTextFileBusy(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | undefined;
  return e?.code === 'ETXTBSY' || (typeof e?.message === 'string' && /text file busy/i.test(e.message));
}

function isTextFileBusyOutcome(outcome: PluginExecOutcome): boolean {
  return outcome.exitCode !== 0 && outcome.stdout === '' && /text file busy/i.test(outcome.stderr);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}

function clip(text: string): string {
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE)}... (${text.length} chars)` : text;
}
