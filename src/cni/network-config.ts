import { parseBoundedJson, isJsonObject } from './bounded-json.ts';
import { CniError, CniErrorCode } from './cni-error.ts';
import { pluginTypeProblem } from '../names/plugin-type.ts';
import { parseVersion } from './versions.ts';

/** One plugin object of a list; `raw` is the object exactly as written (SPEC §1). */
export interface PluginConfig {
  type: string;
  capabilities: Record<string, boolean>;
  raw: Record<string, unknown>;
}

/**
 * A network configuration (SPEC §1). Like libcni we keep the raw JSON beside the parsed view:
 * delegates must receive fields we do not know. A single plugin object (`isList: false`) is
 * up-converted like libcni's ConfListFromConf: `raw`/`bytes` describe the generated list
 * `{cniVersion, name, plugins: [object]}` and `plugins[0].raw` is the original object.
 */
export interface NetworkConfigList {
  name: string;
  /** As written; "" when absent (meaning 0.1.0). Use selectVersion() for the effective one. */
  cniVersion: string;
  cniVersions: string[];
  disableCheck: boolean;
  disableGC: boolean;
  plugins: PluginConfig[];
  raw: Record<string, unknown>;
  bytes: string;
  isList: boolean;
}

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/**
 * Parses a conflist or a single conf from bytes (libcni NetworkConfFromBytes / ConfFromBytes).
 * Bad JSON, size or depth → CniError 6; invalid content → CniError 7 naming key and value.
 * Deviation: a list without plugins is an error here (libcni returns an empty list), because a
 * meta-plugin can do nothing useful with it.
 */
export function parseNetworkConfig(bytes: string | Buffer): NetworkConfigList {
  const text = typeof bytes === 'string' ? bytes : bytes.toString('utf8');
  const value = parseBoundedJson(text, 'network configuration');
  if (!isJsonObject(value)) {
    throw new CniError(CniErrorCode.DecodingFailure, 'network configuration must be a JSON object');
  }
  if ('plugins' in value) return parseList(value, text);
  if ('type' in value) return parseSingle(value);
  throw invalid('network configuration has neither "plugins" (a list) nor "type" (a single plugin)');
}

function parseList(raw: Record<string, unknown>, bytes: string): NetworkConfigList {
  const name = parseName(raw.name, 'name');
  const plugins = raw.plugins;
  if (!Array.isArray(plugins) || plugins.length === 0) {
    throw invalid(`"plugins" must be a non-empty array, got ${describe(plugins)}`, name);
  }
  return {
    name,
    cniVersion: parseVersionField(raw.cniVersion, 'cniVersion'),
    cniVersions: parseVersions(raw.cniVersions),
    disableCheck: parseFlag(raw.disableCheck, 'disableCheck'),
    disableGC: parseFlag(raw.disableGC, 'disableGC'),
    plugins: plugins.map((p: unknown, i) => parsePlugin(p, `plugins[${i}]`)),
    raw,
    bytes,
    isList: true,
  };
}

function parseSingle(raw: Record<string, unknown>): NetworkConfigList {
  const name = parseName(raw.name, 'name');
  const cniVersion = parseVersionField(raw.cniVersion, 'cniVersion');
  const plugin = parsePlugin(raw, '');
  const list = { cniVersion, name, plugins: [raw] };
  return {
    name,
    cniVersion,
    cniVersions: [],
    disableCheck: false,
    disableGC: false,
    plugins: [plugin],
    raw: list,
    bytes: JSON.stringify(list),
    isList: false,
  };
}

function parsePlugin(value: unknown, where: string): PluginConfig {
  const at = (key: string) => (where ? `${where}.${key}` : key);
  if (!isJsonObject(value)) throw invalid(`${where} must be an object, got ${describe(value)}`);
  const type = value.type;
  if (typeof type !== 'string') throw invalid(`${at('type')} must be a string, got ${describe(type)}`);
  const problem = pluginTypeProblem(type);
  if (problem) throw invalid(`${at('type')} ${JSON.stringify(type)} is not a plain file name: ${problem}`);
  const capabilities: Record<string, boolean> = {};
  if (value.capabilities !== undefined) {
    if (!isJsonObject(value.capabilities)) {
      throw invalid(`${at('capabilities')} must be an object, got ${describe(value.capabilities)}`);
    }
    for (const [k, v] of Object.entries(value.capabilities)) {
      if (typeof v !== 'boolean') {
        throw invalid(`${at('capabilities')}.${k} must be true or false, got ${describe(v)}`);
      }
      capabilities[k] = v;
    }
  }
  return { type, capabilities, raw: value };
}

/** Network names become part of cache file names, hence the libcni/skel regex (no "/"). */
export function networkNameProblem(name: string): string | undefined {
  if (name === '') return 'it is empty';
  if (!NAME.test(name)) {
    return 'it must start with a letter or digit and contain only letters, digits, "_", "." and "-"';
  }
  return undefined;
}

function parseName(value: unknown, key: string): string {
  if (value === undefined) throw invalid(`missing network name ("${key}")`);
  if (typeof value !== 'string') throw invalid(`"${key}" must be a string, got ${describe(value)}`);
  const problem = networkNameProblem(value);
  if (problem) throw invalid(`"${key}" ${JSON.stringify(value)} is not a valid network name: ${problem}`);
  return value;
}

function parseVersionField(value: unknown, key: string): string {
  if (value === undefined) return '';
  if (typeof value !== 'string') throw invalid(`"${key}" must be a string, got ${describe(value)}`);
  try {
    parseVersion(value);
  } catch {
    throw invalid(`"${key}" ${JSON.stringify(value)} is not a version like "1.0.0"`);
  }
  return value;
}

function parseVersions(value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw invalid(`"cniVersions" must be an array, got ${describe(value)}`);
  return value.map((v: unknown, i) => parseVersionField(v, `cniVersions[${i}]`));
}

/** libcni accepts JSON booleans or the strings "true"/"false" in any case. */
function parseFlag(value: unknown, key: string): boolean {
  if (value === undefined) return false;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
  throw invalid(`"${key}" must be true or false, got ${describe(value)}`);
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function invalid(msg: string, network?: string): CniError {
  return new CniError(
    CniErrorCode.InvalidNetworkConfig,
    network ? `network ${JSON.stringify(network)}: ${msg}` : msg,
  );
}
