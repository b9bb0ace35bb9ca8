import { readFile } from 'node:fs/promises';
import { readConfDirEntries } from '../host/auto-config.ts';
import { parseDaemonConfig } from '../config/daemon-config.ts';
import { hasDefaultNetwork, parseMultinetConfig, type MultinetConfig } from '../config/multinet-config.ts';
import { selectPrimaryConfig } from '../config/primary-config.ts';
import { multinetOptionsFromText } from './multinet-options.ts';

/**
 * The engine options a node's multinet runs with, for commands that act on the node (gc): the
 * daemon's config file (thick mode; with autoConfig, the default network is the primary config
 * the daemon would pick from primaryConfDir now), or the thin conflist with its `type: multinet`
 * plugin. `notes` say what could not be found.
 */
export async function readNodeEngineConfig(
  path: string,
): Promise<{ config: MultinetConfig; notes: string[] }> {
  const text = await readFile(path, 'utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`${path}: not JSON: ${(err as Error).message}`);
  }
  if (
    typeof parsed === 'object' &&
    parsed !== null &&
    Array.isArray((parsed as Record<string, unknown>)['plugins'])
  )
    return { config: parseMultinetConfig(multinetOptionsFromText(text, path)), notes: [] };
  const daemon = parseDaemonConfig(text);
  const config: MultinetConfig = {
    engine: daemon.engine,
    adapters: daemon.adapters,
    unknownKeys: daemon.unknownKeys,
  };
  const auto = daemon.autoConfig;
  if (hasDefaultNetwork(config.engine) || !auto) return { config, notes: [] };
  const { primary } = selectPrimaryConfig(await readConfDirEntries(auto.primaryConfDir), {
    ownFileName: auto.fileName,
    ...(auto.primaryConfigName ? { wanted: auto.primaryConfigName } : {}),
  });
  if (!primary)
    return {
      config,
      notes: [
        `no primary network config in ${auto.primaryConfDir}: the default network is known only from plans and result caches`,
      ],
    };
  return {
    config: {
      ...config,
      engine: {
        ...config.engine,
        clusterNetworkConfig: JSON.parse(primary.content) as Record<string, unknown>,
      },
    },
    notes: [],
  };
}
