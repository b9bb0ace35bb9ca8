/** One execution of a plugin binary (SPEC §2: env vars in, config on stdin, result on stdout). */
export interface PluginExecRequest {
  path: string;
  env: Record<string, string>;
  stdin: string;
  timeoutMs: number;
  signal?: AbortSignal;
}

/** What happened; `exitCode` is null when the process died from `signal`. */
export interface PluginExecOutcome {
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/**
 * Port: executes a plugin binary. Resolves with the outcome of any process that ran (whatever
 * its exit status); rejects only when no process could be started (the error keeps Node's
 * `code`, e.g. ETXTBSY, ENOENT) or when `signal` aborted the run.
 */
export interface PluginRunner {
  exec(req: PluginExecRequest): Promise<PluginExecOutcome>;
}

/** Port: finds the binary for a plugin `type` in the CNI_PATH directories (pkg/invoke FindInPath). */
export interface PluginLocator {
  /** Resolves to an absolute path; rejects with PluginNotFoundError. */
  find(type: string, paths: string[]): Promise<string>;
}

export class PluginNotFoundError extends Error {
  readonly pluginType: string;
  readonly paths: readonly string[];

  constructor(pluginType: string, paths: readonly string[], why?: string) {
    super(why ?? `failed to find plugin ${JSON.stringify(pluginType)} in path ${JSON.stringify(paths)}`);
    this.name = 'PluginNotFoundError';
    this.pluginType = pluginType;
    this.paths = paths;
  }
}
