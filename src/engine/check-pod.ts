import { CniErrorCode } from '../cni/cni-error.ts';
import { selectVersion, versionAtLeast } from '../cni/versions.ts';
import type { EngineDeps, PodNetworkRequest } from './engine-deps.ts';
import { EngineError, EngineErrorCode, describeCause } from './engine-error.ts';
import { podIdentityFromArgs, podLabel } from './pod-identity.ts';
import { parseAttachmentConfig, runtimeConfFor } from './run-attachments.ts';

/** CHECK every attachment from the cached plan (CNI §2.3: the runtime only CHECKs what it ADDed). */
export async function checkPod(
  deps: EngineDeps,
  req: PodNetworkRequest,
  signal?: AbortSignal,
): Promise<void> {
  const label = podLabel(podIdentityFromArgs(req.cniArgs), req.containerId);
  const plan = await deps.plans.get(req.containerId).catch((err: unknown) => {
    if ((err as { code?: unknown }).code !== 'UNTRUSTED_DIRECTORY') return undefined;
    throw new EngineError(
      { code: EngineErrorCode.CacheFailed, pod: label, reason: describeCause(err), cniCode: 5 },
      { cause: err },
    );
  });
  if (!plan)
    throw new EngineError({
      code: EngineErrorCode.CheckFailed,
      pod: label,
      reason: 'no record of an ADD for this container (plan cache missing or unreadable)',
      // CNI §6 code 3: "container unknown or does not exist".
      cniCode: CniErrorCode.UnknownContainer,
    });
  for (const att of plan.attachments) {
    const list = parseAttachmentConfig(plan, att, req.selfType);
    if (!versionAtLeast(selectVersion(list.cniVersion, list.cniVersions), '0.4.0')) {
      // CNI §2.3: a config older than 0.4.0 cannot be CHECKed; that says nothing about its health.
      deps.log.debug(
        { network: att.network, cniVersion: list.cniVersion },
        'CHECK skipped: config older than 0.4.0',
      );
      continue;
    }
    try {
      await deps.lists.check(list, runtimeConfFor(deps, plan, att, req.netns, req.cniPath), signal);
    } catch (err) {
      throw new EngineError(
        {
          code: EngineErrorCode.CheckFailed,
          pod: label,
          network: att.network,
          reason: `${att.ifName}: ${describeCause(err)}`,
        },
        { cause: err },
      );
    }
  }
}
