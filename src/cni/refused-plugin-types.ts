import type { NetworkConfigList } from './network-config.ts';

/** Where in a network list a refused plugin type appears (`plugins[1].ipam.type`, `type`, ...). */
export interface RefusedType {
  key: string;
  type: string;
}

/**
 * The first plugin type of `list` that is in `refused`: each plugin's `type` and its `ipam.type`
 * (the one delegate a CNI plugin conventionally execs itself, CNI spec §4). Used to keep
 * multinet's own binaries from ever running as a delegate, at any depth we can see.
 */
export function findRefusedType(
  list: NetworkConfigList,
  refused: ReadonlySet<string>,
): RefusedType | undefined {
  for (const [i, plugin] of list.plugins.entries()) {
    const where = list.isList ? `plugins[${i}].` : '';
    if (refused.has(plugin.type)) return { key: `${where}type`, type: plugin.type };
    const ipam = plugin.raw['ipam'];
    if (typeof ipam === 'object' && ipam !== null && !Array.isArray(ipam)) {
      const ipamType = (ipam as Record<string, unknown>)['type'];
      if (typeof ipamType === 'string' && refused.has(ipamType))
        return { key: `${where}ipam.type`, type: ipamType };
    }
  }
  return undefined;
}
