import type { NetworkConfigList } from '../cni/network-config.ts';
import { parseNetworkConfig } from '../cni/network-config.ts';
import { findRefusedType } from '../cni/refused-plugin-types.ts';
import type { RuntimeConf } from '../cni/network-list-runner.ts';
import type { AttachmentPlan, PlannedAttachment } from './attachment-plan.ts';
import type { EngineDeps } from './engine-deps.ts';
import { EngineError, EngineErrorCode, describeCause } from './engine-error.ts';
import { refusedDelegateTypes } from '../wire/own-plugin-types.ts';
import { podLabel } from './pod-identity.ts';
import { removeDeviceInfo } from './attachment-device-info.ts';

/** The runtime parameters one attachment's delegates see. */
export function runtimeConfFor(
  deps: EngineDeps,
  plan: AttachmentPlan,
  att: PlannedAttachment,
  netns: string,
  cniPath: string[],
): RuntimeConf {
  return {
    containerId: plan.containerId,
    netns,
    ifName: att.ifName,
    args: plan.cniArgs,
    capabilityArgs: att.capabilityArgs,
    cniPath: [...deps.config.binDirs, ...cniPath.filter((p) => !deps.config.binDirs.includes(p))],
  };
}

/**
 * Parses one attachment's delegate config and refuses multinet's own plugin types in it (as
 * `type`, `ipam.type` or any plugin of a list; `selfType` is the type multinet was called as):
 * multinet never runs itself as a delegate, whoever wrote the config.
 */
export function parseAttachmentConfig(
  plan: AttachmentPlan,
  att: PlannedAttachment,
  selfType?: string,
): NetworkConfigList {
  let list: NetworkConfigList;
  try {
    list = parseNetworkConfig(att.configText);
  } catch (err) {
    throw new EngineError(
      {
        code: EngineErrorCode.InvalidNetworkConfig,
        pod: podLabel(plan.pod, plan.containerId),
        network: att.network,
        reason: `invalid delegate configuration: ${describeCause(err)}`,
        cniCode: 7,
      },
      { cause: err },
    );
  }
  const refused = findRefusedType(list, refusedDelegateTypes(selfType));
  if (refused)
    throw new EngineError({
      code: EngineErrorCode.InvalidNetworkConfig,
      pod: podLabel(plan.pod, plan.containerId),
      network: att.network,
      reason: `${refused.key} ${JSON.stringify(refused.type)} is multinet itself: multinet's own plugin types are never delegates (name the plugin that should attach this network)`,
      cniCode: 7,
    });
  return list;
}

/**
 * DELs attachments in reverse order, continuing past failures (NPWG §7.2: one failure must not
 * stop the others). Returns the failures so the caller decides whether the plan may be forgotten.
 */
export async function deleteAttachments(
  deps: EngineDeps,
  plan: AttachmentPlan,
  attachments: PlannedAttachment[],
  netns: string,
  cniPath: string[],
  signal?: AbortSignal,
): Promise<{ network: string; ifName: string; error: string }[]> {
  const failures: { network: string; ifName: string; error: string }[] = [];
  const sweep = await interruptedTempLinkKinds(deps, plan, attachments, netns);
  for (const att of [...attachments].reverse()) {
    try {
      const list = parseAttachmentConfig(plan, att);
      await deps.lists.del(list, runtimeConfFor(deps, plan, att, netns, cniPath), signal);
    } catch (err) {
      failures.push({ network: att.network, ifName: att.ifName, error: describeCause(err) });
      deps.log.warn(
        { containerId: plan.containerId, network: att.network, ifName: att.ifName, err: describeCause(err) },
        'delegate DEL failed',
      );
    }
    await removeDeviceInfo(deps, plan, att);
  }
  if (sweep.length > 0) await removeTempLinks(deps, plan, netns, sweep, signal);
  return failures;
}

/**
 * Plugin types that create their link under a temporary name in the pod and rename it after, and
 * the link kind they make. Killed in between (a daemon SIGKILL, a timeout), they leave a link
 * their own DEL cannot find: it looks for the final name.
 */
const TEMP_NAME_KINDS: Readonly<Record<string, string>> = { macvlan: 'macvlan', ipvlan: 'ipvlan' };

/**
 * The link kinds to sweep for temporary names after these DELs: those of attachments whose ADD
 * may have been cut short, i.e. that use a plugin of TEMP_NAME_KINDS and have no cached ADD result
 * (one is written only once every plugin of the list succeeded). A completed ADD costs nothing.
 */
async function interruptedTempLinkKinds(
  deps: EngineDeps,
  plan: AttachmentPlan,
  attachments: PlannedAttachment[],
  netns: string,
): Promise<string[]> {
  if (!deps.links?.removeTempLinks || netns === '') return [];
  const kinds = new Map<PlannedAttachment, string[]>();
  for (const att of attachments) {
    let list: NetworkConfigList;
    try {
      list = parseNetworkConfig(att.configText);
    } catch {
      continue;
    }
    const found = list.plugins.flatMap((p) => {
      const kind = Object.hasOwn(TEMP_NAME_KINDS, p.type) ? TEMP_NAME_KINDS[p.type] : undefined;
      return kind ? [kind] : [];
    });
    if (found.length > 0) kinds.set(att, found);
  }
  if (kinds.size === 0) return [];
  let completed = new Set<string>();
  try {
    const cached = (await deps.lists.cachedAttachments?.(plan.containerId)) ?? [];
    completed = new Set(cached.map((c) => c.ifName));
  } catch {
    // Unknown: sweep, which is safe (only temporary names of these kinds are touched).
  }
  return [...new Set([...kinds].filter(([att]) => !completed.has(att.ifName)).flatMap(([, k]) => k))];
}

async function removeTempLinks(
  deps: EngineDeps,
  plan: AttachmentPlan,
  netns: string,
  kinds: string[],
  signal?: AbortSignal,
): Promise<void> {
  try {
    const removed = (await deps.links?.removeTempLinks?.(netns, kinds, signal)) ?? [];
    if (removed.length > 0)
      deps.log.warn(
        { containerId: plan.containerId, netns, removed },
        'removed links an interrupted ADD left in the pod under a temporary name',
      );
  } catch (err) {
    // The netns may be gone (the runtime removed the sandbox): nothing is left in it then.
    deps.log.debug(
      { containerId: plan.containerId, netns, err: describeCause(err) },
      'cannot look for links left under a temporary name',
    );
  }
}
