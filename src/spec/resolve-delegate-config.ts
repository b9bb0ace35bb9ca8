import { injectNetworkName } from './inject-network-name.ts';
import { jsonNestingDepth } from '../json/json-nesting-depth.ts';
import type { NetworkDefinition } from './network-definition.ts';
import { pluginTypeProblem } from '../names/plugin-type.ts';
import { SpecError, escapeForMessage, quoteValue } from './spec-error.ts';

/** A file the caller read from the configured CNI directory (the caller does the I/O). */
export interface ConfFile {
  path: string;
  content: string;
}

export interface ResolvedDelegate {
  /** `namespace/name` of the definition: the network's identity in status, cache and errors. */
  network: string;
  /** The JSON text to hand to the delegate, byte for byte as written except for an injected name. */
  configText: string;
  source: 'spec' | 'file';
  sourcePath?: string;
  /** A configuration list (`plugins`) rather than a single plugin configuration. */
  isList: boolean;
}

export const DELEGATE_CONFIG_MAX_BYTES = 1024 * 1024;
export const DELEGATE_CONFIG_MAX_DEPTH = 64;
const SKIPPED_REPORT_MAX = 5;

/**
 * Finds the CNI configuration of a definition in the order of spec §3.4.1:
 * 1. `spec.config` (a conf or a conflist), its `name` injected when missing (§3.4.2);
 * 2. else a `.conflist` file whose `name` equals the definition's name;
 * 3. else a `.conf` or `.json` file whose `name` equals it;
 * 4. else NETWORK_CONFIG_NOT_FOUND.
 * Unlike the Go client, lists are preferred over single configs as the spec says (not directory
 * order), and a file that cannot be parsed is skipped instead of aborting the search; skipped files
 * are named in the error when nothing matched. Every plugin `type` must be a plain file name.
 */
export function resolveDelegateConfig(
  def: NetworkDefinition,
  onDisk: readonly ConfFile[],
  options: { confDir?: string } = {},
): ResolvedDelegate {
  const network = `${def.namespace}/${def.name}`;
  const subject = `${def.kind} ${network}`;
  if (def.config !== undefined) {
    const text = def.config;
    const fail = (problem: Problem): never => {
      const key = problem.key === undefined ? 'spec.config' : `spec.config.${problem.key}`;
      throw new SpecError({ code: 'INVALID_NETWORK_CONFIG', subject, ...problem, key });
    };
    const config = parseConfigObject(text);
    if (isProblem(config)) return fail(config);
    const isList = Object.hasOwn(config, 'plugins');
    const problem = configShapeProblem(config, isList);
    if (problem) fail(problem);
    const named = typeof config.name === 'string' && config.name !== '';
    return { network, configText: named ? text : injectNetworkName(text, def.name), source: 'spec', isList };
  }

  const skipped: string[] = [];
  const lists = sortByPath(onDisk.filter((f) => f.path.endsWith('.conflist')));
  const singles = sortByPath(onDisk.filter((f) => f.path.endsWith('.conf') || f.path.endsWith('.json')));
  for (const [files, isList] of [
    [lists, true],
    [singles, false],
  ] as const) {
    for (const file of files) {
      const config = parseConfigObject(file.content);
      if (isProblem(config)) {
        skipped.push(`${escapeForMessage(file.path, 120)}: ${config.reason}`);
        continue;
      }
      if (config.name !== def.name) continue;
      const problem = configShapeProblem(config, isList);
      if (problem) {
        throw new SpecError({
          code: 'INVALID_NETWORK_CONFIG',
          subject: `CNI configuration file ${escapeForMessage(file.path, 120)} (for ${network})`,
          ...problem,
        });
      }
      return { network, configText: file.content, source: 'file', sourcePath: file.path, isList };
    }
  }

  const where = options.confDir ?? 'the CNI configuration directory';
  let reason = `has no spec.config and no CNI configuration named ${quoteValue(def.name)} was found in ${where}`;
  reason += ` (${lists.length + singles.length} .conflist/.conf/.json files looked at)`;
  if (skipped.length > 0) {
    const shown = skipped.slice(0, SKIPPED_REPORT_MAX).join('; ');
    const more =
      skipped.length > SKIPPED_REPORT_MAX ? `; and ${skipped.length - SKIPPED_REPORT_MAX} more` : '';
    reason += `; skipped unreadable files: ${shown}${more}`;
  }
  throw new SpecError({ code: 'NETWORK_CONFIG_NOT_FOUND', subject, reason });
}

interface Problem {
  key?: string;
  value?: unknown;
  reason: string;
}

function isProblem(value: Record<string, unknown> | Problem): value is Problem {
  return value instanceof ParseProblem;
}

class ParseProblem implements Problem {
  constructor(readonly reason: string) {}
}

/** Size, nesting, JSON syntax and "is an object": what makes a text unreadable as a CNI config. */
function parseConfigObject(text: string): Record<string, unknown> | Problem {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > DELEGATE_CONFIG_MAX_BYTES) {
    return new ParseProblem(`is ${bytes} bytes; the limit is ${DELEGATE_CONFIG_MAX_BYTES}`);
  }
  if (jsonNestingDepth(text) > DELEGATE_CONFIG_MAX_DEPTH) {
    return new ParseProblem(`nests deeper than ${DELEGATE_CONFIG_MAX_DEPTH} levels`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return new ParseProblem(`not valid JSON: ${escapeForMessage((e as Error).message)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return new ParseProblem('must be a JSON object (a CNI network configuration or configuration list)');
  }
  return parsed as Record<string, unknown>;
}

/**
 * What multinet relies on in a configuration: string `name` and `cniVersion` when present, and for
 * a list a non-empty `plugins`; every plugin `type` present and a plain file name.
 */
function configShapeProblem(config: Record<string, unknown>, isList: boolean): Problem | undefined {
  for (const key of ['name', 'cniVersion']) {
    const value = config[key];
    if (Object.hasOwn(config, key) && typeof value !== 'string')
      return { key, value, reason: 'must be a string' };
  }
  if (!isList) {
    const hint = Object.hasOwn(config, 'plugins')
      ? ' (this looks like a list of plugins: name the file .conflist)'
      : '';
    return typeProblem(config.type, 'type', hint || ' (a list of plugins goes under "plugins")');
  }
  const plugins = config.plugins;
  if (plugins === undefined)
    return { key: 'plugins', reason: 'missing: a configuration list names its plugins there' };
  if (!Array.isArray(plugins) || plugins.length === 0) {
    return { key: 'plugins', reason: 'must be a non-empty list of plugin configurations' };
  }
  for (const [i, plugin] of plugins.entries()) {
    if (typeof plugin !== 'object' || plugin === null || Array.isArray(plugin)) {
      return { key: `plugins[${i}]`, reason: 'must be an object' };
    }
    const problem = typeProblem((plugin as Record<string, unknown>).type, `plugins[${i}].type`, '');
    if (problem) return problem;
  }
  return undefined;
}

function typeProblem(type: unknown, key: string, missingHint: string): Problem | undefined {
  if (type === undefined) return { key, reason: `missing${missingHint}` };
  if (typeof type !== 'string') return { key, value: type, reason: 'must be a string' };
  const problem = pluginTypeProblem(type);
  return problem === undefined ? undefined : { key, value: type, reason: `plugin type ${problem}` };
}

function sortByPath(files: ConfFile[]): ConfFile[] {
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
