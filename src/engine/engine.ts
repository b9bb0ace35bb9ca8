import type { CniResult } from '../cni/result.ts';
import { addPod } from './add-pod.ts';
import { checkPod } from './check-pod.ts';
import { delPod } from './del-pod.ts';
import type { EngineDeps, PodNetworkRequest } from './engine-deps.ts';
import { EngineError, EngineErrorCode } from './engine-error.ts';
import { gcNetworks, statusNetworks } from './maintain-networks.ts';
import { podIdentityProblem } from './pod-identity.ts';

/** The meta-plugin: one entry for every CNI command; shared by thin mode, the daemon and local mode. */
export async function runPodNetworkRequest(
  deps: EngineDeps,
  req: PodNetworkRequest,
  signal?: AbortSignal,
): Promise<CniResult | undefined> {
  const badPod = podIdentityProblem(req.cniArgs);
  if (badPod)
    // CNI_ARGS is part of the environment (CNI spec §6 code 4); no real runtime sends such names.
    throw new EngineError({
      code: EngineErrorCode.InvalidRequest,
      pod: `container ${req.containerId}`,
      reason: `${badPod}: not a Kubernetes pod`,
      cniCode: 4,
    });
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
