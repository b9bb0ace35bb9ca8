/**
 * The thin plugin as the runtime runs it (test/support/cni-runtime.ts), on a FaultScene's node:
 * the same networks, host-local store, cache directory and leftovers() as the daemon scenarios,
 * with multinet's config on stdin (no API server: the default network and `defaultNetworks`).
 */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { runCni, type CniOutcome } from './cni-runtime.ts';
import { buildThinPlugin, FAKE_PLUGIN_DIR, podArgs, type FaultScene } from './fault-scene.ts';
import { PLUGIN_DIR, type PodNs } from './netns.ts';

export function thinConfig(s: FaultScene, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    cniVersion: '1.0.0',
    name: 'multinet',
    type: 'multinet',
    clusterNetworkConfig: s.opts.primary,
    confDir: s.multinetConfDir,
    cacheDir: s.cacheDir,
    binDirs: [FAKE_PLUGIN_DIR, PLUGIN_DIR],
    logLevel: 'debug',
    ...s.opts.daemon,
    ...extra,
  };
}

export function thinCall(
  s: FaultScene,
  command: 'ADD' | 'DEL' | 'CHECK',
  containerId: string,
  pod: PodNs,
  opts: { config?: Record<string, unknown>; onSpawn?: (child: ChildProcess) => void } = {},
): Promise<CniOutcome> {
  return runCni(
    {
      command,
      containerId,
      netns: pod.path,
      args: podArgs(containerId),
      config: opts.config ?? thinConfig(s),
    },
    {
      nodeNs: s.topo.node,
      hostLocalDir: join(s.topo.tmpDir, 'host-local'),
      plugin: buildThinPlugin(),
      ...(opts.onSpawn ? { onSpawn: opts.onSpawn } : {}),
    },
  );
}
