import { parseNetworkConfig, type NetworkConfigList } from '../cni/network-config.ts';
import { OWN_PLUGIN_TYPES } from '../wire/own-plugin-types.ts';

/** A file of the conf dir as read (content undefined when it could not be read). */
export interface ConfDirEntry {
  name: string;
  content: string | undefined;
}

export interface PrimaryConfig {
  name: string;
  content: string;
  config: NetworkConfigList;
}

/** What automatic configuration knows of the default network (host/auto-config.ts keeps it current). */
export type DefaultNetworkState =
  | { ready: true; primary: PrimaryConfig; config: Record<string, unknown> }
  | { ready: false; reason: string };

const EXTENSIONS = ['.conf', '.conflist', '.json'];

export interface PrimarySelection {
  primary: PrimaryConfig | undefined;
  /** Files passed over, with the reason (logged so an administrator sees why). */
  skipped: { name: string; reason: string }[];
}

/**
 * The primary (cluster default) network's config: like libcni's ConfFiles, the lexicographically
 * first `.conf` / `.conflist` / `.json` file, skipping multinet's own file, hidden and temporary
 * files, unreadable, empty or invalid ones, and any config whose plugins include multinet
 * itself (delegating to it would recurse). `wanted` names one file instead (it must be valid).
 */
export function selectPrimaryConfig(
  entries: readonly ConfDirEntry[],
  opts: { ownFileName: string; wanted?: string },
): PrimarySelection {
  const skipped: PrimarySelection['skipped'] = [];
  const candidates = entries
    .filter((e) => EXTENSIONS.some((ext) => e.name.endsWith(ext)) && !e.name.startsWith('.'))
    .filter((e) => !opts.wanted || e.name === opts.wanted)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of candidates) {
    if (e.name === opts.ownFileName) continue;
    if (e.content === undefined) {
      skipped.push({ name: e.name, reason: 'unreadable' });
      continue;
    }
    if (e.content.trim() === '') {
      skipped.push({ name: e.name, reason: 'empty' });
      continue;
    }
    let config: NetworkConfigList;
    try {
      config = parseNetworkConfig(e.content);
    } catch (err) {
      skipped.push({ name: e.name, reason: `invalid: ${err instanceof Error ? err.message : String(err)}` });
      continue;
    }
    const self = config.plugins.find((p) => OWN_PLUGIN_TYPES.includes(p.type));
    if (self) {
      skipped.push({ name: e.name, reason: `is multinet's own (type "${self.type}")` });
      continue;
    }
    return { primary: { name: e.name, content: e.content, config }, skipped };
  }
  return { primary: undefined, skipped };
}
