import type { CniRequest } from '../cni/cni-env.ts';
import type { PluginMainOutput } from '../cni/plugin-main.ts';
import { runPluginMain } from '../cni/plugin-main.ts';
import { SUPPORTED_VERSIONS } from '../cni/versions.ts';
import type { MultinetConfig } from '../config/multinet-config.ts';
import { parseMultinetConfig } from '../config/multinet-config.ts';
import type { EngineDeps } from '../engine/engine-deps.ts';
import { runPodNetworkRequest } from '../engine/engine.ts';
import { multinetPluginObject, toPodNetworkRequest } from '../engine/pod-network-request.ts';
import { toCniError } from '../engine/to-cni-error.ts';
import type { CniResult } from '../cni/result.ts';

/**
 * Thin mode: the CNI plugin process does the whole job itself. `buildDeps` makes the real
 * adapters from multinet's config (passed in so tests can point them at test directories).
 */
export async function runThinPlugin(
  env: Record<string, string | undefined>,
  stdin: Buffer | string,
  buildDeps: (config: MultinetConfig) => Promise<EngineDeps & { close?(): void }>,
): Promise<PluginMainOutput> {
  let deps: (EngineDeps & { close?(): void }) | undefined;
  const run = async (req: CniRequest): Promise<CniResult | undefined> => {
    try {
      deps ??= await buildDeps(parseMultinetConfig(multinetPluginObject(req)));
      return await runPodNetworkRequest(deps, toPodNetworkRequest(req));
    } catch (err) {
      throw toCniError(err);
    }
  };
  try {
    return await runPluginMain(env, stdin, {
      supportedVersions: SUPPORTED_VERSIONS,
      about: 'multinet: multi-network CNI meta-plugin (NPWG NetworkAttachmentDefinition standard)',
      add: async (req) => (await run(req))!,
      del: async (req) => void (await run(req)),
      check: async (req) => void (await run(req)),
      gc: async (req) => void (await run(req)),
      status: async (req) => void (await run(req)),
    });
  } finally {
    deps?.close?.();
  }
}
