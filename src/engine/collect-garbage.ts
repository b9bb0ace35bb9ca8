import type { NetworkConfigList } from '../cni/network-config.ts';
import { parseNetworkConfig } from '../cni/network-config.ts';
import type { ValidAttachment } from '../cni/valid-attachments.ts';
import type { AttachmentPlan } from './attachment-plan.ts';
import type { EngineDeps } from './engine-deps.ts';
import { describeCause } from './engine-error.ts';
import { NetworkResolver } from './resolve-networks.ts';
import { deleteAttachments } from './run-attachments.ts';

/** What a GC releases and what it must leave alone. */
export interface GarbageSelection {
  /** True for a cached container whose attachments are released (DEL from its plan). */
  isStale(containerId: string): boolean;
  /** Networks to GC besides the default network, `defaultNetworks` and those of the kept plans. */
  extraNetworks?: NetworkConfigList[];
  /** When given, only the networks of these names are sent GC. */
  onlyNetworks?: ReadonlySet<string>;
  /**
   * The `cni.dev/valid-attachments` sent to one network. Default: the kept plans' attachments
   * on it. Called right before that network's GC, so a caller can read what is valid then.
   */
  validFor?(network: string, kept: AttachmentPlan[]): Promise<ValidAttachment[]>;
}

/** The kept plans' attachments on one network (by the delegate list's own name). */
export function keptAttachments(kept: AttachmentPlan[], network: string): ValidAttachment[] {
  const out: ValidAttachment[] = [];
  for (const plan of kept)
    for (const att of plan.attachments) {
      let name: string;
      try {
        name = parseNetworkConfig(att.configText).name;
      } catch {
        continue;
      }
      if (name === network) out.push({ containerId: plan.containerId, ifName: att.ifName });
    }
  return out;
}

/**
 * GC (CNI 1.1 §2.6) as multinet does it, for the runtime's GC and for `multinet gc`: DEL every
 * cached plan `isStale` picks (in reverse, with an empty netns: the sandbox is gone), then send
 * GC to each delegate network with the attachments still valid on it. Returns every error (the
 * plan of a container whose DEL failed is kept, so a later GC or DEL retries).
 */
export async function collectGarbage(
  deps: EngineDeps,
  selection: GarbageSelection,
  cniPath: string[],
  signal?: AbortSignal,
): Promise<string[]> {
  const errors: string[] = [];
  const kept: AttachmentPlan[] = [];
  for (const containerId of await deps.plans.list()) {
    const plan = await deps.plans.get(containerId).catch(() => undefined);
    if (!plan) continue;
    if (!selection.isStale(containerId)) {
      kept.push(plan);
      continue;
    }
    const failures = await deleteAttachments(deps, plan, plan.attachments, '', cniPath, signal);
    if (failures.length === 0) await deps.plans.delete(containerId);
    else errors.push(...failures.map((f) => `${containerId} ${f.network}: ${f.error}`));
  }
  const byNetwork = new Map<string, NetworkConfigList>();
  const add = (list: NetworkConfigList) => {
    if (selection.onlyNetworks && !selection.onlyNetworks.has(list.name)) return;
    if (!byNetwork.has(list.name)) byNetwork.set(list.name, list);
  };
  const resolver = new NetworkResolver(deps, 'GC');
  const statics = [
    await resolver.defaultNetwork(undefined).catch(() => undefined),
    ...(await resolver.configuredNetworks(undefined).catch(() => [])),
  ];
  for (const net of statics) if (net) add(parseNetworkConfig(net.configText));
  for (const plan of kept)
    for (const att of plan.attachments) {
      try {
        add(parseNetworkConfig(att.configText));
      } catch {
        // A kept plan's unparsable config names no network to GC; its DEL reports it.
      }
    }
  for (const list of selection.extraNetworks ?? []) add(list);
  for (const list of byNetwork.values()) {
    try {
      const valid = selection.validFor
        ? await selection.validFor(list.name, kept)
        : keptAttachments(kept, list.name);
      await deps.lists.gc(list, valid, cniPath, signal);
    } catch (err) {
      errors.push(`${list.name}: ${describeCause(err)}`);
    }
  }
  return errors;
}
