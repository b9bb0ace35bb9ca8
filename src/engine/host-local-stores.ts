import type { NetworkConfigList } from '../cni/network-config.ts';

/** host-local's default `dataDir` (containernetworking/plugins plugins/ipam/host-local/backend/disk). */
export const HOST_LOCAL_DEFAULT_DATA_DIR = '/var/lib/cni/networks';

/**
 * Where host-local keeps one network's reservations: `<dataDir>/<network name>/`, one file per
 * reserved address holding the container ID and the interface name.
 */
export interface HostLocalStore {
  dataDir: string;
  /** The delegate list's name, which host-local uses as the directory name. */
  network: string;
}

export function storeKey(store: HostLocalStore): string {
  return `${store.dataDir}\0${store.network}`;
}

/**
 * The host-local stores a delegate list uses: every plugin whose `ipam.type` is host-local
 * (a chain can carry several). A `dataDir` that is not an absolute path is left out: host-local
 * would resolve it against the runtime's working directory, which gc cannot know.
 */
export function hostLocalStores(list: NetworkConfigList): HostLocalStore[] {
  const out = new Map<string, HostLocalStore>();
  for (const plugin of list.plugins) {
    const ipam = plugin.raw['ipam'];
    if (typeof ipam !== 'object' || ipam === null || Array.isArray(ipam)) continue;
    const obj = ipam as Record<string, unknown>;
    if (obj['type'] !== 'host-local') continue;
    const dataDir = obj['dataDir'] === undefined ? HOST_LOCAL_DEFAULT_DATA_DIR : obj['dataDir'];
    if (typeof dataDir !== 'string' || !dataDir.startsWith('/') || dataDir.includes('\0')) continue;
    const store = { dataDir: dataDir.replace(/\/+$/, '') || '/', network: list.name };
    out.set(storeKey(store), store);
  }
  return [...out.values()];
}
