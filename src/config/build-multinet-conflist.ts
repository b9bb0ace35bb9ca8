import type { PrimaryConfig } from './primary-config.ts';

/** Lets containerd/CRI-O pass the pod's annotations in runtimeConfig (containerd's and CRI-O's `io.kubernetes.cri.pod-annotations` capability). */
export const POD_ANNOTATIONS_CAPABILITY = 'io.kubernetes.cri.pod-annotations';

export const SHIM_TYPE = 'multinet-shim';

export interface MultinetConflistOptions {
  networkName: string;
  socketPath: string;
}

/**
 * The network list the runtime sees (`00-multinet.conflist`): one `multinet-shim` plugin that
 * forwards to the daemon. It speaks the primary's cniVersion (the runtime and the primary agree
 * on it already), advertises the union of the capabilities the primary enables so the runtime
 * sends their runtimeConfig, plus pod annotations, and embeds the primary's config as
 * `clusterNetworkConfig` so it is visible to an administrator (and usable by thin mode); the
 * daemon itself always uses its live view of the primary. Pure; key order is stable so an
 * unchanged primary gives byte-identical output.
 */
export function buildMultinetConflist(
  primary: PrimaryConfig,
  opts: MultinetConflistOptions,
): Record<string, unknown> {
  const capabilities: Record<string, boolean> = {};
  for (const plugin of primary.config.plugins)
    for (const [cap, on] of Object.entries(plugin.capabilities)) if (on) capabilities[cap] = true;
  capabilities[POD_ANNOTATIONS_CAPABILITY] = true;
  const sorted = Object.fromEntries(Object.entries(capabilities).sort(([a], [b]) => (a < b ? -1 : 1)));
  const embedded = JSON.parse(primary.content) as Record<string, unknown>;
  return {
    cniVersion: primary.config.cniVersion || '0.1.0',
    name: opts.networkName,
    plugins: [
      {
        type: SHIM_TYPE,
        socketPath: opts.socketPath,
        capabilities: sorted,
        primaryConfigFile: primary.name,
        clusterNetworkConfig: embedded,
      },
    ],
  };
}

export function formatConflist(conflist: Record<string, unknown>): string {
  return `${JSON.stringify(conflist, null, 2)}\n`;
}
