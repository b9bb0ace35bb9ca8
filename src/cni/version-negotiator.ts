import { CniError, CniErrorCode } from './cni-error.ts';
import type { InvokeDeps } from './invoke.ts';
import type { NetworkConfigList } from './network-config.ts';
import type { PluginLocator } from './plugin-runner.ts';
import { getVersionInfo } from './plugin-version-info.ts';
import { selectVersion, selectVersionFrom, SUPPORTED_VERSIONS } from './versions.ts';

/**
 * Picks the version a list runs with (SPEC §1 "Version considerations"): selectVersion, narrowed
 * by the plugins' VERSION answers when the list offers a choice (`cniVersion` ∪ `cniVersions`
 * has more than one entry), so a list offering 1.1.0 still runs 1.0.0-only plugins. A single
 * offered version costs no VERSION call: the plugin itself reports a mismatch. Successful
 * answers are remembered per binary path for the negotiator's lifetime.
 */
export class VersionNegotiator {
  private readonly answers = new Map<string, string[]>();

  constructor(
    private readonly deps: InvokeDeps,
    private readonly locator: PluginLocator,
    private readonly baseEnv: Record<string, string> | undefined,
    private readonly enabled = true,
  ) {}

  async resolve(list: NetworkConfigList, cniPath: string[], signal?: AbortSignal): Promise<string> {
    const selected = selectVersion(list.cniVersion, list.cniVersions);
    const candidates = [list.cniVersion, ...list.cniVersions];
    if (!this.enabled || new Set(candidates).size < 2) return selected;
    let allowed: readonly string[] = SUPPORTED_VERSIONS;
    const said: string[] = [];
    for (const plugin of list.plugins) {
      const supported = await this.pluginVersions(plugin.type, cniPath, signal);
      if (!supported) continue;
      allowed = allowed.filter((v) => supported.includes(v));
      said.push(`${plugin.type} supports ${JSON.stringify(supported)}`);
    }
    try {
      return selectVersionFrom(candidates, allowed);
    } catch (err) {
      throw new CniError(
        CniErrorCode.IncompatibleVersion,
        'incompatible CNI versions',
        `network ${JSON.stringify(list.name)} offers ${JSON.stringify(candidates)}; ${said.join('; ')}`,
        { cause: err },
      );
    }
  }

  /** undefined when the plugin cannot be found or asked: it does not narrow the choice then. */
  private async pluginVersions(
    type: string,
    cniPath: string[],
    signal?: AbortSignal,
  ): Promise<string[] | undefined> {
    let pluginPath: string;
    try {
      pluginPath = await this.locator.find(type, cniPath);
    } catch {
      return undefined;
    }
    const known = this.answers.get(pluginPath);
    if (known) return known;
    try {
      const options = { ...(this.baseEnv ? { baseEnv: this.baseEnv } : {}), ...(signal ? { signal } : {}) };
      const info = await getVersionInfo(this.deps, { pluginType: type, pluginPath }, options);
      this.answers.set(pluginPath, info.supportedVersions);
      return info.supportedVersions;
    } catch {
      return undefined;
    }
  }
}
