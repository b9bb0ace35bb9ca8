import type { CniResult } from '../cni/result.ts';
import { addPod } from './add-pod.ts';
import { checkPod } from './check-pod.ts';
import { delPod } from './del-pod.ts';
import type { EngineDeps, PodNetworkRequest } from './engine-deps.ts';
import { gcNetworks, statusNetworks } from './maintain-networks.ts';

/** The meta-plugin: one entry for every CNI command; shared by thin mode, the daemon and local mode. */
export async function runPodNetworkRequest(
  deps: EngineDeps,
  req: PodNetworkRequest,
  signal?: AbortSignal,
): Promise<CniResult | undefined> {
  switch (req.command) {
    case 'ADD':
      return addPod(deps, req, signal);
    case 'DEL':
      await delPod(deps, req, signal);
      return undefined;
    case 'CHECK':
      await checkPod(deps, req, signal);
      return undefined;
    case 'STATUS':
      await statusNetworks(deps, req, signal);
      return undefined;
    case 'GC':
      await gcNetworks(deps, req, signal);
      return undefined;
  }
}
