import { execFile } from 'node:child_process';

/** A kubeconfig user's `exec` section (client.authentication.k8s.io/v1 credential plugins). */
export interface ExecConfig {
  apiVersion: string;
  command: string;
  args: string[];
  env: { name: string; value: string }[];
  /** The environment the plugin inherits (before `env`); handed in by bin/, which owns process.env. */
  baseEnv?: Record<string, string>;
}

export const EXEC_API_VERSION = 'client.authentication.k8s.io/v1';
/**
 * The versions a kubeconfig may ask for: v1beta1 is the same protocol for tokens (still what
 * several cloud CLIs write into kubeconfigs); v1alpha1 was removed from client-go in 1.24.
 */
export const EXEC_API_VERSIONS: readonly string[] = [
  EXEC_API_VERSION,
  'client.authentication.k8s.io/v1beta1',
];
const MAX_OUTPUT_BYTES = 1024 * 1024;

/** Runs a credential plugin and answers its stdout (a port, so tests can script one). */
export type ExecRunner = (command: string, args: string[], env: Record<string, string>) => Promise<string>;

/** The real runner: no shell, bounded output, a time limit (a plugin waiting for a person fails). */
export const childProcessExecRunner: ExecRunner = (command, args, env) =>
  new Promise((resolve, reject) => {
    execFile(command, args, { env, timeout: 30_000, maxBuffer: MAX_OUTPUT_BYTES }, (err, stdout, stderr) => {
      if (err) {
        const why = String(stderr).trim().split('\n').slice(-3).join(' ').slice(0, 500);
        reject(new Error(`${err.message.split('\n')[0]}${why ? `: ${why}` : ''}`));
      } else resolve(String(stdout));
    });
  });

/**
 * Bearer tokens from an exec credential plugin (the ExecCredential protocol, as kubectl and
 * client-go run it): the plugin is run when no token is cached, when the cached one reached its
 * `expirationTimestamp`, or when the API answered 401 (`force`). One run at a time.
 */
export class ExecCredentialSource {
  private cached: { token: string; expiresAt: number } | undefined;
  private running: Promise<string> | undefined;

  constructor(
    private readonly exec: ExecConfig,
    private readonly run: ExecRunner = childProcessExecRunner,
    private readonly now: () => number = Date.now,
  ) {}

  async token(force = false): Promise<string> {
    if (!force && this.cached && this.now() < this.cached.expiresAt) return this.cached.token;
    this.running ??= this.refresh().finally(() => (this.running = undefined));
    return this.running;
  }

  private async refresh(): Promise<string> {
    const { command, args, env, apiVersion } = this.exec;
    const info = JSON.stringify({ apiVersion, kind: 'ExecCredential', spec: { interactive: false } });
    const fullEnv: Record<string, string> = { ...this.exec.baseEnv, KUBERNETES_EXEC_INFO: info };
    for (const e of env) fullEnv[e.name] = e.value;
    let out: string;
    try {
      out = await this.run(command, args, fullEnv);
    } catch (err) {
      throw new Error(`kubeconfig exec plugin ${command} failed: ${(err as Error).message}`, { cause: err });
    }
    const fail = (why: string): never => {
      throw new Error(`kubeconfig exec plugin ${command}: ${why}`);
    };
    let doc: unknown;
    try {
      doc = JSON.parse(out);
    } catch {
      return fail('did not print an ExecCredential (not JSON)');
    }
    const cred = (typeof doc === 'object' && doc !== null ? doc : {}) as {
      apiVersion?: unknown;
      kind?: unknown;
      status?: { token?: unknown; expirationTimestamp?: unknown; clientCertificateData?: unknown };
    };
    if (cred.kind !== 'ExecCredential') fail(`printed kind ${JSON.stringify(cred.kind)}, not ExecCredential`);
    if (cred.apiVersion !== apiVersion)
      fail(`answered ${JSON.stringify(cred.apiVersion)}, asked ${apiVersion}`);
    const token = cred.status?.token;
    if (typeof token !== 'string' || token === '')
      fail(
        cred.status?.clientCertificateData !== undefined
          ? 'client certificates from exec plugins are not supported: only tokens'
          : 'no status.token in its ExecCredential',
      );
    const exp = cred.status?.expirationTimestamp;
    let expiresAt = Number.POSITIVE_INFINITY;
    if (exp !== undefined && exp !== null) {
      expiresAt = typeof exp === 'string' ? Date.parse(exp) : NaN;
      if (Number.isNaN(expiresAt)) fail(`status.expirationTimestamp ${JSON.stringify(exp)} is not a time`);
    }
    this.cached = { token: token as string, expiresAt };
    return token as string;
  }
}
