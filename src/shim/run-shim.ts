import type { DaemonCniAnswer } from '../wire/daemon-wire.ts';
import { CNI_PATH_ENDPOINT, FORWARDED_ENV } from '../wire/daemon-wire.ts';
import { CURRENT_VERSION, SUPPORTED_VERSIONS } from '../cni/versions.ts';
import { NESTED_CALL_ENV, nestedCallMessage } from '../wire/own-plugin-types.ts';

/** Where the daemon listens when the config does not say (docs/daemon.md). */
export const DEFAULT_SOCKET_PATH = '/run/multinet/multinet.sock';
/** How long DEL keeps retrying an unreachable or saturated daemon before reporting failure. */
export const DEFAULT_DEL_DEADLINE_MS = 10_000;

export interface PostResult {
  status: number;
  body: string;
}

export interface ShimDeps {
  /** One HTTP POST over the unix socket; rejects when the daemon cannot be reached. */
  post(socketPath: string, path: string, body: string): Promise<PostResult>;
  sleep(ms: number): Promise<void>;
  now(): number;
}

export interface ShimOutput {
  stdout: string;
  stderr: string;
  exitCode: number;
}

interface ShimConfig {
  cniVersion: string | undefined;
  socketPath: string;
  delDeadlineMs: number;
}

/** The few keys the shim itself reads from its CNI config (top level or its plugin object). */
function readShimConfig(stdin: string): ShimConfig {
  let conf: Record<string, unknown> = {};
  try {
    const parsed = JSON.parse(stdin) as unknown;
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed))
      conf = parsed as Record<string, unknown>;
  } catch {
    // The daemon reports undecodable configs with the proper error; we only need defaults here.
  }
  const plugins = conf['plugins'];
  const plugin =
    Array.isArray(plugins) && typeof plugins[0] === 'object' && plugins[0] !== null
      ? (plugins[0] as Record<string, unknown>)
      : conf;
  const pick = (key: string): unknown => plugin[key] ?? conf[key];
  const socket = pick('socketPath');
  const deadline = pick('shimDelDeadlineSeconds');
  return {
    cniVersion: typeof conf['cniVersion'] === 'string' ? conf['cniVersion'] : undefined,
    socketPath: typeof socket === 'string' && socket.startsWith('/') ? socket : DEFAULT_SOCKET_PATH,
    delDeadlineMs:
      typeof deadline === 'number' && deadline >= 0 && deadline <= 300
        ? deadline * 1000
        : DEFAULT_DEL_DEADLINE_MS,
  };
}

function cniError(code: number, msg: string, details: string, cniVersion: string | undefined): ShimOutput {
  const err = { ...(cniVersion ? { cniVersion } : {}), code, msg, details };
  return { stdout: `${JSON.stringify(err)}\n`, stderr: '', exitCode: 1 };
}

function parseAnswer(res: PostResult): DaemonCniAnswer | undefined {
  try {
    const a = JSON.parse(res.body) as Partial<DaemonCniAnswer>;
    if (typeof a.exitCode === 'number' && Number.isInteger(a.exitCode) && typeof a.stdout === 'string')
      return { exitCode: a.exitCode, stdout: a.stdout };
  } catch {
    // handled by the caller
  }
  return undefined;
}

/**
 * The CNI plugin the runtime executes in thick mode: forwards the CNI_* variables and stdin to
 * the node daemon in one request and prints its answer. VERSION is answered here. When the
 * daemon cannot be reached, ADD (and CHECK, GC) fail at once with code 11 naming the socket, so
 * the kubelet retries, and STATUS answers 50 "plugin not available" (the runtime then reports the
 * node's network not ready); otherwise STATUS is the daemon's aggregate (engine/maintain-networks.ts); DEL retries until its deadline and then reports the error —
 * a silent success would leak the pod's addresses (as a Multus DEL that ignores an unreachable daemon does).
 */
export async function runShim(
  env: Record<string, string | undefined>,
  stdin: string,
  deps: ShimDeps,
): Promise<ShimOutput> {
  const command = env['CNI_COMMAND'] ?? '';
  if (command === '')
    return {
      stdout: '',
      stderr: `multinet-shim: forwards CNI calls to the multinet daemon\nCNI protocol versions supported: ${SUPPORTED_VERSIONS.join(', ')}\n`,
      exitCode: 0,
    };
  const conf = readShimConfig(stdin);
  if (command === 'VERSION') {
    const answer = {
      cniVersion: conf.cniVersion || CURRENT_VERSION,
      supportedVersions: [...SUPPORTED_VERSIONS],
    };
    return { stdout: `${JSON.stringify(answer)}\n`, stderr: '', exitCode: 0 };
  }
  // Run by the daemon (or a thin multinet) as a delegate: the config came from a NAD, never act on it.
  if (env[NESTED_CALL_ENV] !== undefined)
    return cniError(
      7,
      'multinet-shim: refusing to run as a delegate',
      nestedCallMessage(env),
      conf.cniVersion,
    );
  const forwarded: Record<string, string> = {};
  for (const key of FORWARDED_ENV) {
    const v = env[key];
    if (v !== undefined) forwarded[key] = v;
  }
  const body = JSON.stringify({ env: forwarded, config: stdin });
  const deadline = deps.now() + (command === 'DEL' ? conf.delDeadlineMs : 0);
  let delay = 100;
  for (;;) {
    let res: PostResult | undefined;
    let failure: string | undefined;
    try {
      res = await deps.post(conf.socketPath, CNI_PATH_ENDPOINT, body);
    } catch (err) {
      failure = err instanceof Error ? err.message : String(err);
    }
    const retryable = res === undefined || res.status === 503;
    const remaining = deadline - deps.now();
    if (!retryable || remaining <= 0) {
      // STATUS asks "can ADD be served now?": with no daemon the answer is 50 (CNI 1.1 §2.4).
      if (res === undefined && command === 'STATUS')
        return cniError(
          50,
          'plugin not available',
          `multinet daemon not reachable at ${conf.socketPath}: ${failure}; is the multinet daemon running on this node?`,
          conf.cniVersion,
        );
      if (res === undefined)
        return cniError(
          11,
          `multinet daemon not reachable at ${conf.socketPath}`,
          `${failure}; is the multinet daemon running on this node? (try again later)`,
          conf.cniVersion,
        );
      const answer = parseAnswer(res);
      if (!answer)
        return cniError(
          999,
          'multinet daemon gave an unexpected answer',
          `HTTP ${res.status} from ${conf.socketPath}: ${res.body.slice(0, 200)}`,
          conf.cniVersion,
        );
      return { stdout: answer.stdout, stderr: '', exitCode: answer.exitCode };
    }
    // The last try lands on the deadline itself.
    await deps.sleep(Math.min(delay, remaining));
    delay = Math.min(delay * 2, 1_000);
  }
}
