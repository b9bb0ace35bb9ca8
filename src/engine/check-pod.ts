import { CniErrorCode, relayableCode } from '../cni/cni-error.ts';
import { selectVersion, versionAtLeast } from '../cni/versions.ts';
import type { AttachmentPlan } from './attachment-plan.ts';
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
  const outcomes = await checkAttachments(deps, plan, req.netns, req.cniPath, req.selfType, signal, {
    stopAtFailure: true,
  });
  const failed = outcomes.find((o) => o.outcome === 'failure');
  if (failed)
    throw new EngineError(
      {
        code: EngineErrorCode.CheckFailed,
        pod: label,
        network: failed.network,
        reason: `${failed.ifName}: ${failed.error}`,
        // As ADD does: the delegate's own code when the runtime can read it right, else 999.
        cniCode: relayableCode((failed.cause as { code?: unknown } | null)?.code),
      },
      { cause: failed.cause },
    );
}

export interface AttachmentCheck {
  network: string;
  ifName: string;
  /** `skipped`: the config is older than CNI 0.4.0, which has no CHECK. */
  outcome: 'success' | 'failure' | 'skipped';
  error?: string;
  cause?: unknown;
}

/**
 * Runs the delegates' CHECK for each attachment of a plan, in order, and says how each went.
 * Never changes the pod: CHECK only reports (CNI §4 "CHECK"). A config multinet cannot parse or
 * must refuse counts as a failure of that attachment, unless `stopAtFailure` (the runtime's own
 * CHECK), where it is thrown as it is.
 */
export async function checkAttachments(
  deps: EngineDeps,
  plan: AttachmentPlan,
  netns: string,
  cniPath: string[],
  selfType: string | undefined,
  signal?: AbortSignal,
  opts: { stopAtFailure?: boolean } = {},
): Promise<AttachmentCheck[]> {
  const out: AttachmentCheck[] = [];
  for (const att of plan.attachments) {
    const base = { network: att.network, ifName: att.ifName };
    const fail = (err: unknown) =>
      out.push({
        ...base,
        outcome: 'failure',
        error: err instanceof EngineError ? err.reason : describeCause(err),
        cause: err,
      });
    let list;
    try {
      list = parseAttachmentConfig(plan, att, selfType);
    } catch (err) {
      // The runtime's CHECK answers with the refusal itself (code 7), as ADD does.
      if (opts.stopAtFailure) throw err;
      fail(err);
      continue;
    }
    if (!versionAtLeast(selectVersion(list.cniVersion, list.cniVersions), '0.4.0')) {
      // CNI §2.3: a config older than 0.4.0 cannot be CHECKed; that says nothing about its health.
      deps.log.debug(
        { network: att.network, cniVersion: list.cniVersion },
        'CHECK skipped: config older than 0.4.0',
      );
      out.push({ ...base, outcome: 'skipped' });
      continue;
    }
    try {
      await deps.lists.check(list, runtimeConfFor(deps, plan, att, netns, cniPath), signal);
      out.push({ ...base, outcome: 'success' });
    } catch (err) {
      if (signal?.aborted) throw err;
      fail(err);
      if (opts.stopAtFailure) break;
    }
  }
  return out;
}
