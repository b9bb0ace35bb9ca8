import { CniError, CniErrorCode } from './cni-error.ts';
import { parseNetworkConfig, type NetworkConfigList } from './network-config.ts';
import { interfaceNameProblem as ifNameRule } from '../names/interface-name.ts';

export type CniCommand = 'ADD' | 'DEL' | 'CHECK' | 'GC' | 'STATUS' | 'VERSION';

export const CNI_COMMANDS: readonly CniCommand[] = ['ADD', 'DEL', 'CHECK', 'GC', 'STATUS', 'VERSION'];

/** What a plugin learns from its environment and stdin (SPEC §2), after pkg/skel's checks. */
export interface CniRequest {
  command: CniCommand;
  containerId: string;
  /** "" when absent (allowed for DEL, SPEC §2.2). */
  netns: string;
  ifName: string;
  args: [string, string][];
  path: string[];
  /** undefined for VERSION, whose stdin is not a network configuration. */
  config: NetworkConfigList | undefined;
  stdin: string;
}

/** Variables pkg/skel demands per command (containernetworking/cni pkg/skel, getCmdArgsFromEnv); CNI_PATH too, whatever the spec says. */
const REQUIRED: Record<CniCommand, readonly string[]> = {
  ADD: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_PATH'],
  DEL: ['CNI_CONTAINERID', 'CNI_IFNAME', 'CNI_PATH'],
  CHECK: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_PATH'],
  GC: ['CNI_PATH'],
  STATUS: ['CNI_PATH'],
  VERSION: [],
};

const CONTAINER_ID = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
/**
 * The spec sets no length, but the ID names cache files (`<network>-<ID>-<ifname>` plus a
 * temporary suffix must fit in 255 bytes); runtimes use 64 hex characters.
 */
export const MAX_CONTAINER_ID_LENGTH = 128;

/**
 * Parses `K=V;K2=V2` like Go's types.LoadArgs: every pair splits on "=" into exactly two parts
 * (so a value cannot contain "="). "" means no args. Throws CniError code 4 naming CNI_ARGS.
 */
export function parseCniArgs(text: string): [string, string][] {
  if (text === '') return [];
  return text.split(';').map((pair) => {
    const kv = pair.split('=');
    if (kv.length !== 2 || kv[0] === '') {
      throw new CniError(
        CniErrorCode.InvalidEnvironment,
        `CNI_ARGS: invalid pair ${JSON.stringify(pair)}`,
        'expected KEY=VALUE pairs separated by ";", with no "=" inside a key or value',
      );
    }
    return [kv[0] ?? '', kv[1] ?? ''];
  });
}

/** The inverse of parseCniArgs; refuses pairs that could not be parsed back. */
export function formatCniArgs(args: readonly (readonly [string, string])[]): string {
  return args
    .map(([k, v]) => {
      if (k === '' || /[;=]/.test(k) || /[;=]/.test(v)) {
        throw new CniError(
          CniErrorCode.InvalidEnvironment,
          `CNI_ARGS: cannot encode pair ${JSON.stringify(`${k}=${v}`)}`,
          'keys must be non-empty and neither keys nor values may contain ";" or "="',
        );
      }
      return `${k}=${v}`;
    })
    .join(';');
}

/** Why a container ID is unusable (pkg/utils ValidateContainerID), or undefined. */
export function containerIdProblem(id: string): string | undefined {
  if (id === '') return 'missing containerID';
  if (!CONTAINER_ID.test(id)) return `invalid characters in containerID ${JSON.stringify(id.slice(0, 200))}`;
  if (id.length > MAX_CONTAINER_ID_LENGTH)
    return `containerID is ${id.length} characters long, the limit is ${MAX_CONTAINER_ID_LENGTH}`;
  return undefined;
}

/**
 * Why an interface name is unusable, or undefined: the one rule (src/names/interface-name.ts) that
 * the networks annotation obeys too, which is stricter than libcni's ValidateInterfaceName.
 */
export function interfaceNameProblem(name: string): string | undefined {
  const problem = ifNameRule(name);
  return problem && `interface name ${JSON.stringify(name.slice(0, 64))} ${problem}`;
}

/**
 * Splits CNI_PATH (":" on Linux), dropping empty and relative entries: a relative directory would
 * be resolved against whatever the working directory of the plugin happens to be.
 */
export function parseCniPath(text: string): string[] {
  return text.split(':').filter((p) => p.startsWith('/'));
}

/**
 * Plugin side: environment + stdin to a typed request with pkg/skel's rules. Missing variables
 * and bad values → CniError 4 naming them; undecodable stdin → 6; invalid config → 7.
 */
export function parseCniRequest(env: Record<string, string | undefined>, stdin: Buffer | string): CniRequest {
  const get = (key: string) => env[key] ?? '';
  const commandText = get('CNI_COMMAND');
  if (commandText === '') {
    throw new CniError(CniErrorCode.InvalidEnvironment, 'required env variables [CNI_COMMAND] missing');
  }
  if (!(CNI_COMMANDS as readonly string[]).includes(commandText)) {
    throw new CniError(CniErrorCode.InvalidEnvironment, `unknown CNI_COMMAND: ${commandText}`);
  }
  const command = commandText as CniCommand;
  const missing = REQUIRED[command].filter((key) => get(key) === '');
  if (missing.length > 0) {
    throw new CniError(
      CniErrorCode.InvalidEnvironment,
      `required env variables [${missing.join(',')}] missing`,
    );
  }
  const usesAttachment = REQUIRED[command].includes('CNI_CONTAINERID');
  if (usesAttachment) {
    const problem = containerIdProblem(get('CNI_CONTAINERID')) ?? interfaceNameProblem(get('CNI_IFNAME'));
    if (problem) throw new CniError(CniErrorCode.InvalidEnvironment, problem);
  }
  const text = typeof stdin === 'string' ? stdin : stdin.toString('utf8');
  return {
    command,
    containerId: get('CNI_CONTAINERID'),
    netns: get('CNI_NETNS'),
    ifName: get('CNI_IFNAME'),
    args: parseCniArgs(get('CNI_ARGS')),
    path: parseCniPath(get('CNI_PATH')),
    config: command === 'VERSION' ? undefined : parseNetworkConfig(text),
    stdin: text,
  };
}

export interface PluginEnvParams {
  command: CniCommand;
  containerId?: string;
  netns?: string;
  ifName?: string;
  args?: readonly (readonly [string, string])[];
  path: readonly string[];
}

/**
 * Runtime side: the environment a delegate runs with. Like libcni, the base environment is
 * passed through and all six CNI_* variables are always set (empty where not applicable), so
 * values inherited from our own caller never leak into a delegate.
 */
export function buildPluginEnv(
  params: PluginEnvParams,
  baseEnv: Record<string, string | undefined> = {},
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(baseEnv)) if (v !== undefined) env[k] = v;
  env.CNI_COMMAND = params.command;
  env.CNI_CONTAINERID = params.containerId ?? '';
  env.CNI_NETNS = params.netns ?? '';
  env.CNI_IFNAME = params.ifName ?? '';
  env.CNI_ARGS = formatCniArgs(params.args ?? []);
  env.CNI_PATH = params.path.join(':');
  return env;
}
