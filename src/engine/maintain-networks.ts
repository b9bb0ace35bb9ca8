import { parseNetworkConfig } from '../cni/network-config.ts';
import type { ValidAttachment } from '../cni/valid-attachments.ts';
import { collectGarbage, keptAttachments } from './collect-garbage.ts';
import type { EngineDeps, PodNetworkRequest } from './engine-deps.ts';
import { EngineError, EngineErrorCode, describeCause } from './engine-error.ts';
import { NetworkResolver } from './resolve-networks.ts';

/**
 * STATUS (CNI 1.1 §2.4): multinet can serve ADD only if every delegate it would always run (the
 * default network and `defaultNetworks`) can; each is asked, not only the default network.
 */
export async function statusNetworks(
  deps: EngineDeps,
  req: PodNetworkRequest,
  signal?: AbortSignal,
): Promise<void> {
  const resolver = new NetworkResolver(deps, 'STATUS');
  let nets;
  try {
    nets = [await resolver.defaultNetwork(undefined), ...(await resolver.configuredNetworks(undefined))];
  } catch (err) {
    throw new EngineError(
      {
        code: EngineErrorCode.DefaultNetworkUnavailable,
        pod: 'STATUS',
        reason: describeCause(err),
        cniCode: 50,
      },
      { cause: err },
    );
  }
  for (const net of nets) {
    try {
      await deps.lists.status(parseNetworkConfig(net.configText), cniPath(deps, req), signal);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      throw new EngineError(
        {
          code: EngineErrorCode.DefaultNetworkUnavailable,
          pod: 'STATUS',
          network: net.network,
          reason: describeCause(err),
          cniCode: code === 51 ? 51 : 50,
        },
        { cause: err },
      );
    }
  }
}

/**
 * GC (CNI 1.1 §2.6): DEL every cached pod whose container the runtime no longer lists as valid,
 * then forward GC to every delegate network with the attachments still valid for it.
 */
export async function gcNetworks(
  deps: EngineDeps,
  req: PodNetworkRequest,
  signal?: AbortSignal,
): Promise<void> {
  // No list is not "nothing is valid": releasing every cached pod's addresses on it would be a disaster.
  if (req.validAttachments === undefined)
    throw new EngineError({
      code: EngineErrorCode.InvalidRequest,
      pod: 'GC',
      reason: 'the request has no cni.dev/valid-attachments list; GC did nothing',
      cniCode: 7,
    });
  const valid = new Set(req.validAttachments.map((a) => a.containerId));
  // A container the runtime still lists but whose plan is lost keeps what the result cache
  // remembers of it: without this, GC would DEL its additional networks as stale.
  const planned = new Set(await deps.plans.list());
  const remembered: (ValidAttachment & { network: string })[] = [];
  for (const containerId of valid) {
    if (planned.has(containerId)) continue;
    const cached = await deps.lists.cachedAttachments?.(containerId).catch(() => []);
    for (const a of cached ?? []) remembered.push({ containerId, ifName: a.ifName, network: a.network });
  }
  const errors = await collectGarbage(
    deps,
    {
      isStale: (containerId) => !valid.has(containerId),
      validFor: async (network, kept) => [
        ...keptAttachments(kept, network),
        ...remembered
          .filter((r) => r.network === network)
          .map(({ containerId, ifName }) => ({ containerId, ifName })),
      ],
    },
    cniPath(deps, req),
    signal,
  );
  if (errors.length > 0)
    throw new EngineError({ code: EngineErrorCode.DeleteIncomplete, pod: 'GC', reason: errors.join('; ') });
}

function cniPath(deps: EngineDeps, req: PodNetworkRequest): string[] {
  return [...deps.config.binDirs, ...req.cniPath.filter((p) => !deps.config.binDirs.includes(p))];
}
