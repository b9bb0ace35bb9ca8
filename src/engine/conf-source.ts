import type { ConfFile } from '../spec/resolve-delegate-config.ts';
import { OWN_PLUGIN_TYPES } from '../wire/own-plugin-types.ts';

/** Read access to CNI config files on the node (conf dirs, clusterNetwork paths). */
export interface ConfSource {
  /** `*.conf`, `*.conflist` and `*.json` in `dir`, sorted by name; unreadable files are skipped. */
  listConfFiles(dir: string): Promise<ConfFile[]>;
  /** The file, or undefined when it does not exist. */
  readConfFile(path: string): Promise<ConfFile | undefined>;
  isDirectory(path: string): Promise<boolean>;
  exists(path: string): Promise<boolean>;
}

/** True when a config text is a usable delegate config that is not multinet's own. */
export function isForeignConfig(content: string): boolean {
  try {
    const conf = JSON.parse(content) as Record<string, unknown>;
    const plugins = Array.isArray(conf['plugins']) ? (conf['plugins'] as Record<string, unknown>[]) : [conf];
    if (plugins.length === 0) return false;
    return plugins.every(
      (p) => typeof p?.['type'] === 'string' && !OWN_PLUGIN_TYPES.includes(p['type'] as string),
    );
  } catch {
    return false;
  }
}

export function configName(content: string): string | undefined {
  try {
    const name = (JSON.parse(content) as Record<string, unknown>)['name'];
    return typeof name === 'string' ? name : undefined;
  } catch {
    return undefined;
  }
}
