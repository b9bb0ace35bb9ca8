import { parseBoundedJson } from './bounded-json.ts';
import { parseCniRequest, type CniRequest } from './cni-env.ts';
import { CniError, CniErrorCode } from './cni-error.ts';
import type { CniResult } from './result.ts';
import { convertResult } from './result-convert.ts';
import { CURRENT_VERSION, normalizeVersion, tryNormalizeVersion, versionAtLeast } from './versions.ts';

/** What a plugin implements (pkg/skel PluginFuncs). GC and STATUS default to "nothing to do". */
export interface PluginHandlers {
  /** Versions the plugin accepts in its config; the config's must be one of them exactly. */
  supportedVersions: readonly string[];
  /** Printed to stderr when run without CNI_COMMAND (skel's "about"). */
  about?: string;
  add(req: CniRequest): Promise<CniResult>;
  del(req: CniRequest): Promise<void>;
  check(req: CniRequest): Promise<void>;
  gc?(req: CniRequest): Promise<void>;
  status?(req: CniRequest): Promise<void>;
}

export interface PluginMainOutput {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/**
 * The plugin side of the protocol (SPEC §2, pkg/skel), with the process passed in: environment
 * and stdin go in, stdout and an exit code come out. ADD results are converted to the version
 * of the config we were called with (SPEC §5). Failures print the spec's error object on stdout
 * (where every runtime reads it) and exit 1; errors that are not CniErrors become code 999
 * unless they carry a numeric `cniCode` or `code`.
 */
export async function runPluginMain(
  env: Record<string, string | undefined>,
  stdin: Buffer | string,
  handlers: PluginHandlers,
): Promise<PluginMainOutput> {
  const versions = handlers.supportedVersions;
  if ((env.CNI_COMMAND ?? '') === '' && handlers.about) {
    return {
      stdout: '',
      stderr: `${handlers.about}\nCNI protocol versions supported: ${versions.join(', ')}\n`,
      exitCode: 0,
    };
  }
  let configVersion: string | undefined;
  try {
    const req = parseCniRequest(env, stdin);
    if (req.command === 'VERSION') {
      const answer = { cniVersion: requestedVersion(req.stdin), supportedVersions: [...versions] };
      return { stdout: `${JSON.stringify(answer)}\n`, stderr: '', exitCode: 0 };
    }
    const config = req.config;
    if (config === undefined)
      throw new CniError(CniErrorCode.DecodingFailure, 'missing network configuration');
    configVersion = config.cniVersion;
    const version = normalizeVersion(config.cniVersion);
    if (!versions.includes(version)) {
      throw new CniError(
        CniErrorCode.IncompatibleVersion,
        'incompatible CNI versions',
        `config is "${config.cniVersion}", plugin supports ${JSON.stringify(versions)}`,
      );
    }
    switch (req.command) {
      case 'ADD': {
        const result = convertResult(await handlers.add(req), version);
        return { stdout: `${JSON.stringify(result)}\n`, stderr: '', exitCode: 0 };
      }
      case 'DEL':
        await handlers.del(req);
        break;
      case 'CHECK':
        requireVersion(version, '0.4.0', 'CHECK');
        await handlers.check(req);
        break;
      case 'GC':
        requireVersion(version, '1.1.0', 'GC');
        await handlers.gc?.(req);
        break;
      case 'STATUS':
        requireVersion(version, '1.1.0', 'STATUS');
        await handlers.status?.(req);
        break;
    }
    return { stdout: '', stderr: '', exitCode: 0 };
  } catch (err) {
    const error = asCniError(err);
    return {
      stdout: `${JSON.stringify(error.toJSON(configVersion || undefined))}\n`,
      stderr: '',
      exitCode: 1,
    };
  }
}

/** Generic fallback for handler errors that are not CniErrors (the engine maps its own first). */
function asCniError(err: unknown): CniError {
  if (err instanceof CniError) return err;
  const e = err as { cniCode?: unknown; code?: unknown; message?: unknown } | undefined;
  const message = err instanceof Error ? err.message : String(err);
  const code = isCode(e?.cniCode) ? e.cniCode : isCode(e?.code) ? e.code : CniErrorCode.Internal;
  return new CniError(code, message, undefined, { cause: err });
}

function isCode(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

function requireVersion(version: string, minimum: string, command: string): void {
  if (!versionAtLeast(version, minimum)) {
    throw new CniError(
      CniErrorCode.IncompatibleVersion,
      `config version does not allow ${command}`,
      `${command} needs cniVersion ${minimum} or newer, config is "${version}"`,
    );
  }
}

/** SPEC §2 VERSION echoes the caller's cniVersion; without a usable one we answer ours. */
function requestedVersion(stdin: string): string {
  try {
    const v = (parseBoundedJson(stdin, 'version request') as { cniVersion?: unknown } | null)?.cniVersion;
    if (typeof v === 'string' && tryNormalizeVersion(v) !== undefined && v !== '') return v;
  } catch {
    // VERSION stdin is optional in practice (skel ignores it).
  }
  return CURRENT_VERSION;
}
