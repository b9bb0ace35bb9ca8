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
  return failures;
}
