import type { AttachmentPlan, PlannedAttachment } from './attachment-plan.ts';
import type { CachedAttachment, EngineDeps, PodNetworkRequest } from './engine-deps.ts';
import { EngineError, EngineErrorCode, describeCause } from './engine-error.ts';
import { clearClaimStatuses } from './claim-status.ts';
import { resolvePod } from './lookup-pod.ts';
import { planForRequest } from './plan-attachments.ts';
import type { PodIdentity } from './pod-identity.ts';
import { podIdentityFromArgs, podLabel } from './pod-identity.ts';
import { NetworkResolver } from './resolve-networks.ts';
import { resolveAndPlan } from './resolve-plan.ts';
import { deleteAttachments } from './run-attachments.ts';

/**
 * DEL: from the cached plan, in reverse, continuing past failures. Without a usable plan the
 * attachments are rebuilt as far as possible (result cache, configuration, API), so DEL
 * succeeds when the pod, the NAD or the API server is gone, and when CNI_NETNS is empty.
 * When a delegate DEL fails the plan is kept and the error returned: the runtime retries DEL,
 * and a silent success here would leak addresses.
 */
export async function delPod(deps: EngineDeps, req: PodNetworkRequest, signal?: AbortSignal): Promise<void> {
  const identity = podIdentityFromArgs(req.cniArgs);
  const label = podLabel(identity, req.containerId);
  let plan: AttachmentPlan | undefined;
  let corrupt = false;
  try {
    plan = await deps.plans.get(req.containerId);
  } catch (err) {
    // A cache directory others could write to: nothing in it, nor DEL itself, may be trusted.
    if ((err as { code?: unknown }).code === 'UNTRUSTED_DIRECTORY')
      throw new EngineError(
        { code: EngineErrorCode.CacheFailed, pod: label, reason: describeCause(err), cniCode: 5 },
        { cause: err },
      );
    corrupt = true;
    deps.log.error(
      { containerId: req.containerId, err: describeCause(err) },
      'plan cache unreadable; rebuilding',
    );
  }
  const cached = plan !== undefined;
  if (!plan) plan = await rebuildPlan(deps, req, label, signal);
  if (!plan) {
    deps.log.warn({ containerId: req.containerId, pod: label }, 'DEL: nothing known about this container');
    return;
  }
  const failures = await deleteAttachments(deps, plan, plan.attachments, req.netns, req.cniPath, signal);
  if (corrupt)
    // Say what was done instead, so an administrator can judge what else may need cleaning up.
    deps.log.error(
      {
        containerId: req.containerId,
        pod: label,
        released: plan.attachments
          .filter((a) => !failures.some((f) => f.ifName === a.ifName))
          .map((a) => `${a.network} (${a.ifName})`),
        failed: failures.map((f) => `${f.network} (${f.ifName}): ${f.error}`),
      },
      'DEL with an unreadable plan cache: released what the result cache and the configuration know; an attachment known to neither cannot be found',
    );
  if (failures.length > 0 && !cached && !corrupt) {
    // No plan and no corrupt one: ADD never ran, or its undo or an earlier DEL completed (a plan is
    // written before the first delegate and removed only once all are gone). The rebuilt DEL is a
    // safety net; failing here would only wedge the sandbox, as the same DEL would fail forever.
    deps.log.warn(
      { containerId: req.containerId, pod: label, failures },
      'DEL without a plan: some delegate DELs failed',
    );
    return;
  }
  if (failures.length > 0)
    throw new EngineError({
      code: EngineErrorCode.DeleteIncomplete,
      pod: label,
      network: failures[0]!.network,
      reason: `DEL incomplete, will retry: ${failures.map((f) => `${f.network} (${f.ifName}): ${f.error}`).join('; ')}`,
      retryable: true,
    });
  await clearClaimStatuses(deps, plan, signal);
  await deps.plans.delete(req.containerId);
}

/**
 * Best effort: every attachment the result cache remembers (with the config it was attached
 * with: the NAD or the config file may have changed or gone since), the default network, the
 * configured defaultNetworks, and the pod's other networks if the API still knows them.
 */
async function rebuildPlan(
  deps: EngineDeps,
  req: PodNetworkRequest,
  label: string,
  signal?: AbortSignal,
): Promise<AttachmentPlan | undefined> {
  const identity = podIdentityFromArgs(req.cniArgs);
  const remembered = await cachedAttachments(deps, req);
  const resolver = new NetworkResolver(deps, label);
  let defaultNetwork;
  try {
    defaultNetwork = await resolver.defaultNetwork(undefined);
  } catch (err) {
    deps.log.error(
      { containerId: req.containerId, err: describeCause(err) },
      'DEL: default network unresolvable',
    );
    if (remembered.length === 0) return undefined;
    return withRemembered(emptyPlan(identity, req), remembered, req);
  }
  if (identity && (deps.cluster || deps.config.podSource === 'runtime')) {
    try {
      const pod = await resolvePod(deps, req, identity, label, signal, 'del');
      if (!pod) throw new PodGone();
      // The same resolve and plan as the ADD.
      const { plan } = await resolveAndPlan(resolver, req, identity, pod, pod.namespace);
      return withRemembered(plan, remembered, req);
    } catch (err) {
      if (err instanceof PodGone)
        deps.log.debug({ containerId: req.containerId, pod: label }, 'DEL: the pod is gone');
      else
        deps.log.warn(
          { containerId: req.containerId, err: describeCause(err) },
          'DEL: rebuilding from the API failed',
        );
    }
  }
  // Without the pod: what the node alone knows.
  const additional = await resolver.configuredNetworks(identity?.namespace).catch(() => []);
  let plan: AttachmentPlan;
  try {
    plan = planForRequest(req, identity, defaultNetwork, additional);
  } catch {
    plan = {
      ...emptyPlan(identity, req),
      attachments: [defaultAttachment(defaultNetwork.network, defaultNetwork.configText, req)],
    };
  }
  return withRemembered(plan, remembered, req);
}

/** The API says the pod no longer exists: DEL goes on with what the node knows, without a warning. */
class PodGone extends Error {}

async function cachedAttachments(deps: EngineDeps, req: PodNetworkRequest): Promise<CachedAttachment[]> {
  try {
    return (await deps.lists.cachedAttachments?.(req.containerId)) ?? [];
  } catch (err) {
    deps.log.warn({ containerId: req.containerId, err: describeCause(err) }, 'DEL: result cache unreadable');
    return [];
  }
}

/** The result cache knows what was really attached, and how: it wins over today's configuration. */
function withRemembered(
  plan: AttachmentPlan,
  remembered: CachedAttachment[],
  req: PodNetworkRequest,
): AttachmentPlan {
  for (const r of remembered) {
    const att: PlannedAttachment = {
      network: r.network,
      ifName: r.ifName,
      isDefault: r.ifName === req.ifName,
      configText: r.configText,
      capabilityArgs: r.capabilityArgs,
    };
    // The result cache keeps the capability args, the device-info file among them.
    const file = r.capabilityArgs['CNIDeviceInfoFile'];
    if (typeof file === 'string') att.deviceInfoFile = file;
    const i = plan.attachments.findIndex((a) => a.ifName === r.ifName);
    if (i >= 0) plan.attachments[i] = att;
    // The default network is deleted last, as after an ADD.
    else if (att.isDefault) plan.attachments.unshift(att);
    else plan.attachments.push(att);
  }
  return plan;
}

function emptyPlan(identity: PodIdentity | undefined, req: PodNetworkRequest): AttachmentPlan {
  return {
    pod: identity,
    containerId: req.containerId,
    netns: req.netns,
    cniArgs: req.cniArgs,
    attachments: [],
  };
}

function defaultAttachment(network: string, configText: string, req: PodNetworkRequest): PlannedAttachment {
  return { network, ifName: req.ifName, isDefault: true, configText, capabilityArgs: req.runtimeConfig };
}
