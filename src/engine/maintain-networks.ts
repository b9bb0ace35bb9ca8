import type { NetworkConfigList } from '../cni/network-config.ts';
import { parseNetworkConfig } from '../cni/network-config.ts';
import type { AttachmentPlan } from './attachment-plan.ts';
import type { EngineDeps, PodNetworkRequest } from './engine-deps.ts';
import { EngineError, EngineErrorCode, describeCause } from './engine-error.ts';
import { NetworkResolver } from './resolve-networks.ts';
import { deleteAttachments } from './run-attachments.ts';

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
  const errors: string[] = [];
  const kept: AttachmentPlan[] = [];
  for (const containerId of await deps.plans.list()) {
    const plan = await deps.plans.get(containerId).catch(() => undefined);
    if (!plan) continue;
    if (valid.has(containerId)) {
      kept.push(plan);
      continue;
    }
    const failures = await deleteAttachments(deps, plan, plan.attachments, '', req.cniPath, signal);
    if (failures.length === 0) await deps.plans.delete(containerId);
    else errors.push(...failures.map((f) => `${containerId} ${f.network}: ${f.error}`));
  }
  const byNetwork = new Map<
    string,
    { list: NetworkConfigList; valid: { containerId: string; ifName: string }[] }
  >();
  const resolver = new NetworkResolver(deps, 'GC');
  const statics = [
    await resolver.defaultNetwork(undefined).catch(() => undefined),
    ...(await resolver.configuredNetworks(undefined).catch(() => [])),
  ];
  for (const net of statics) {
    if (!net) continue;
    const list = parseNetworkConfig(net.configText);
    byNetwork.set(list.name, { list, valid: [] });
  }
  for (const plan of kept) {
    for (const att of plan.attachments) {
      const list = parseNetworkConfig(att.configText);
      const entry = byNetwork.get(list.name) ?? { list, valid: [] };
      entry.valid.push({ containerId: plan.containerId, ifName: att.ifName });
      byNetwork.set(list.name, entry);
    }
  }
  for (const { list, valid: attachments } of byNetwork.values()) {
    try {
      await deps.lists.gc(list, attachments, cniPath(deps, req), signal);
    } catch (err) {
      errors.push(`${list.name}: ${describeCause(err)}`);
    }
  }
  if (errors.length > 0)
    throw new EngineError({ code: EngineErrorCode.DeleteIncomplete, pod: 'GC', reason: errors.join('; ') });
}

function cniPath(deps: EngineDeps, req: PodNetworkRequest): string[] {
  return [...deps.config.binDirs, ...req.cniPath.filter((p) => !deps.config.binDirs.includes(p))];
}
