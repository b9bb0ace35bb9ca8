import { isJsonObject, parseBoundedJson } from './bounded-json.ts';
import { buildPluginEnv } from './cni-env.ts';
import { CniError, CniErrorCode } from './cni-error.ts';
import { DelegateError } from './delegate-error.ts';
import { runPlugin, type InvokeDeps } from './invoke.ts';
import { CURRENT_VERSION } from './versions.ts';

export interface PluginVersionInfo {
  cniVersion: string;
  supportedVersions: string[];
}

/** Asks a plugin which spec versions it supports (libcni GetVersionInfo). */
export async function getVersionInfo(
  deps: InvokeDeps,
  plugin: { pluginType: string; pluginPath: string },
  options: { baseEnv?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<PluginVersionInfo> {
  const env = buildPluginEnv(
    { command: 'VERSION', netns: 'dummy', ifName: 'dummy', path: ['dummy'] },
    options.baseEnv,
  );
  const req = { ...plugin, command: 'VERSION' as const, env, signal: options.signal };
  let stdout: string;
  try {
    stdout = await runPlugin(deps, { ...req, stdin: JSON.stringify({ cniVersion: CURRENT_VERSION }) });
  } catch (err) {
    // Plugins from spec 0.1.0 predate VERSION and reject it with exactly this message.
    if (err instanceof DelegateError && err.msg === 'unknown CNI_COMMAND: VERSION') {
      return { cniVersion: '0.1.0', supportedVersions: ['0.1.0'] };
    }
    throw err;
  }
  try {
    return parseVersionInfo(stdout);
  } catch (err) {
    const e = err as CniError;
    throw new DelegateError(
      { ...req, reason: 'bad-output', code: e.code, msg: e.msg, details: e.details },
      { cause: err },
    );
  }
}

/** Decodes a VERSION answer like pkg/version/plugin.go. Throws CniError code 6. */
export function parseVersionInfo(text: string): PluginVersionInfo {
  const value = parseBoundedJson(text, 'version info');
  const bad = (why: string) => new CniError(CniErrorCode.DecodingFailure, `decoding version info: ${why}`);
  if (!isJsonObject(value)) throw bad('not a JSON object');
  if (typeof value.cniVersion !== 'string' || value.cniVersion === '') throw bad('missing field cniVersion');
  const supported = value.supportedVersions;
  if (supported === undefined) {
    if (value.cniVersion === '0.2.0') return { cniVersion: '0.2.0', supportedVersions: ['0.1.0', '0.2.0'] };
    throw bad('missing field supportedVersions');
  }
  if (!Array.isArray(supported) || !supported.every((v): v is string => typeof v === 'string')) {
    throw bad('supportedVersions must be an array of strings');
  }
  return { cniVersion: value.cniVersion, supportedVersions: supported };
}
