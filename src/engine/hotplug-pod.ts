import type { CniResult } from '../cni/result.ts';
import type { NetworksReadyCondition, PodInfo } from '../k8s/cluster-view.ts';
import { formatNetworkStatus } from '../spec/network-status.ts';
import { removeLeftLinks } from './add-pod.ts';
import type { AttachmentPlan, PlannedAttachment } from './attachment-plan.ts';
import { rebuildNetworkStatus, statusOf } from './attachment-status.ts';
import type { EngineDeps } from './engine-deps.ts';
import { EngineError, EngineErrorCode, describeCause } from './engine-error.ts';
import { enforceTenantPolicy } from './enforce-tenant-policy.ts';
import { diffSelections, hotplugInterfaceNames, type HotplugAddition } from './hotplug-diff.ts';
import {
  attachedCondition,
  conditionTime,
  hotplugFailedCondition,
  hotplugRefusedCondition,
  NetworksReadyReason,
} from './networks-ready.ts';
import { planForRequest } from './plan-attachments.ts';
import { podLabel } from './pod-identity.ts';
import { NetworkResolver } from './resolve-networks.ts';
import { deleteAttachments, parseAttachmentConfig, runtimeConfFor } from './run-attachments.ts';
import { selectionKey } from './selection-key.ts';

export interface HotplugChange {
  network: string;
  ifName: string;
  /** The addresses a hot-plugged attachment got (its Event names them, as ADD's does). */
  ips?: string[];
}

export interface HotplugFailure extends HotplugChange {
  /** The stable code (docs/troubleshooting.md), then the story. */
  error: string;
}

/** What one hot-plug pass did to a sandbox (docs/hotplug.md). */
export interface HotplugOutcome {
  /** Why nothing was looked at (no usable plan, another pod's plan); the pod is untouched. */
  skipped?: string;
  /** Why the edit was refused as a whole (the default network, an invalid annotation); nothing ran. */
  refused?: string;
  added: HotplugChange[];
  removed: HotplugChange[];
  failed: HotplugFailure[];
}

/**
 * Hot-plug (thick mode, docs/hotplug.md): makes the running sandbox `containerId` match the pod's
 * networks annotation as `pod` now holds it. The caller holds the container's lock, so no CNI
 * ADD, DEL or CHECK of the container runs meanwhile, and the plan read here is the one ADD (or the
 * last pass) wrote. Networks the annotation no longer names are detached (reverse order), then
 * new ones attached in annotation order, one at a time, each written into the plan as `pending`
 * (atomically) before its delegates run, so that the pod's DEL, or the next pass after a crash,
 * removes it. A failure undoes only that attachment. Then network-status and NetworksReady are
 * written in one PATCH, and Events recorded. The default network, its interface, and the
 * `defaultNetworks` attachments are never changed: an edit that would is refused as a whole.
 */
export async function hotplugPod(
  deps: EngineDeps,
  containerId: string,
  pod: PodInfo,
  signal?: AbortSignal,
): Promise<HotplugOutcome> {
  const outcome: HotplugOutcome = { added: [], removed: [], failed: [] };
  const plan = await deps.plans.get(containerId);
  if (!plan?.pod || plan.netns === '') return { ...outcome, skipped: 'no plan with a pod and a netns' };
  if (plan.pod.namespace !== pod.namespace || plan.pod.name !== pod.name)
    return { ...outcome, skipped: 'the plan is of another pod' };
  if (plan.pod.uid !== '' && pod.uid !== '' && plan.pod.uid !== pod.uid)
    return { ...outcome, skipped: 'the plan is of an earlier pod of that name' };
  if (!plan.ifNames)
    return { ...outcome, skipped: 'the plan was written by a multinet without hot-plug records' };
  const defaultAtt = plan.attachments.find((a) => a.isDefault);
  if (!defaultAtt) return { ...outcome, skipped: 'the plan has no default network' };
  const label = podLabel(plan.pod, containerId);
  const podRef = { ...plan.pod, uid: plan.pod.uid || pod.uid };
  const resolver = new NetworkResolver(deps, label);

  let desired;
  try {
    const override = resolver.defaultOverride(pod);
    if ((override && selectionKey(override)) !== defaultAtt.selection)
      throw new EngineError({
        code: EngineErrorCode.InvalidAnnotation,
        pod: label,
        reason: `the default network (${defaultAtt.network} on ${defaultAtt.ifName}) cannot be changed on a running pod: v1.multus-cni.io/default-network ${override ? `now names ${override.namespace}/${override.name}` : 'was removed'} (re-create the pod to change it)`,
      });
    desired = resolver.selections(pod, defaultAtt.ifName);
  } catch (err) {
    const reason = err instanceof EngineError ? `${err.code}: ${err.reason}` : describeCause(err);
    await refuse(deps, podRef, label, reason, pod.networksReady, signal);
    return { ...outcome, refused: reason };
  }

  const diff = diffSelections(plan, desired);
  if (diff.remove.length === 0 && diff.add.length === 0) {
    // Already as asked. A refusal or failure reported earlier is over (the edit that caused it
    // was undone): say so, once.
    const ready = pod.networksReady;
    if (
      ready?.status === 'False' &&
      (ready.reason === NetworksReadyReason.HotplugFailed ||
        ready.reason === NetworksReadyReason.HotplugRefused)
    )
      await writeStatus(deps, plan, podRef, label, [], ready, signal);
    return outcome;
  }

  for (const att of [...diff.remove].reverse()) {
    if (signal?.aborted) break;
    await detach(deps, plan, att, label, outcome, signal);
  }
  const inUse = new Map(
    plan.attachments.map((a) => [
      a.ifName,
      a.isDefault ? `default network ${a.network}` : `network ${a.network}`,
    ]),
  );
  const names = hotplugInterfaceNames(plan.ifNames, inUse, diff.add);
  for (const [i, addition] of diff.add.entries()) {
    if (signal?.aborted) break;
    const name = names[i]!;
    if ('problem' in name) {
      outcome.failed.push({
        network: addition.network,
        ifName: addition.selection.interface ?? '',
        error: `${EngineErrorCode.InvalidAnnotation}: ${name.problem}`,
      });
      continue;
    }
    await attach(deps, plan, defaultAtt, resolver, pod, addition, name.ifName, label, outcome, signal);
  }

  await writeStatus(deps, plan, podRef, label, outcome.failed, pod.networksReady, signal);
  await recordEvents(deps, podRef, outcome);
  deps.log.info(
    {
      pod: label,
      containerId,
      added: outcome.added.map(describe),
      removed: outcome.removed.map(describe),
      failed: outcome.failed.map((f) => `${describe(f)}: ${f.error}`),
    },
    outcome.failed.length > 0 ? 'hot-plug done with failures' : 'hot-plug done',
  );
  return outcome;
}

function describe(c: HotplugChange): string {
  return `${c.network} (${c.ifName})`;
}

async function putPlan(deps: EngineDeps, plan: AttachmentPlan, label: string): Promise<void> {
  try {
    await deps.plans.put(plan);
  } catch (err) {
    throw new EngineError(
      {
        code: EngineErrorCode.CacheFailed,
        pod: label,
        reason: `cannot write the plan cache: ${describeCause(err)}`,
      },
      { cause: err },
    );
  }
}

/** Detaches one attachment; it leaves the plan only once its delegates' DEL succeeded. */
async function detach(
  deps: EngineDeps,
  plan: AttachmentPlan,
  att: PlannedAttachment,
  label: string,
  outcome: HotplugOutcome,
  signal?: AbortSignal,
): Promise<void> {
  const failures = await deleteAttachments(deps, plan, [att], plan.netns, [], signal);
  if (failures.length > 0 && !att.pending) {
    // Still attached as far as anyone knows: it stays in the plan (the pod's DEL retries it).
    outcome.failed.push({
      network: att.network,
      ifName: att.ifName,
      error: `${EngineErrorCode.DelegateFailed}: detaching ${att.ifName} failed: ${failures[0]!.error}`,
    });
    return;
  }
  // A pending attachment (a crash mid-plug) whose DEL fails goes as a failed ADD's does.
  if (failures.length > 0) await removeLeftLinks(deps, plan, failures, plan.netns, signal);
  plan.attachments = plan.attachments.filter((a) => a !== att);
  try {
    await putPlan(deps, plan, label);
  } catch (err) {
    // The delegates' DEL is idempotent: a plan that still lists it costs the pod's DEL one more.
    deps.log.warn({ pod: label, ifName: att.ifName, err: describeCause(err) }, 'hot-plug: plan not updated');
  }
  if (!att.pending) outcome.removed.push({ network: att.network, ifName: att.ifName });
}

/**
 * Plans one new attachment with ADD's planner (cni-args, capability checks, the tenant policy),
 * records it in the plan as pending, runs its delegates; a failure undoes this one only.
 */
async function attach(
  deps: EngineDeps,
  plan: AttachmentPlan,
  defaultAtt: PlannedAttachment,
  resolver: NetworkResolver,
  pod: PodInfo,
  addition: HotplugAddition,
  ifName: string,
  label: string,
  outcome: HotplugOutcome,
  signal?: AbortSignal,
): Promise<void> {
  const fail = (err: unknown) =>
    outcome.failed.push({
      network: addition.network,
      ifName,
      error: err instanceof EngineError ? `${err.code}: ${err.reason}` : describeCause(err),
    });
  let att: PlannedAttachment;
  let list;
  try {
    const resolved = await resolver.selected(pod.namespace, addition.selection);
    if (resolved.resourceName)
      throw new EngineError({
        code: EngineErrorCode.InvalidRequest,
        pod: label,
        network: addition.network,
        reason: `the network is device-backed (k8s.v1.cni.cncf.io/resourceName ${resolved.resourceName}): its device is allocated when the pod starts, so it cannot be hot-plugged (re-create the pod)`,
      });
    if (addition.selection.defaultRoute !== undefined)
      throw new EngineError({
        code: EngineErrorCode.InvalidRequest,
        pod: label,
        network: addition.network,
        reason: `"default-route" cannot be hot-plugged: it would move the running pod's default route (re-create the pod)`,
      });
    const defaultNetwork = { network: defaultAtt.network, configText: defaultAtt.configText };
    const request = {
      containerId: plan.containerId,
      netns: plan.netns,
      ifName: defaultAtt.ifName,
      cniArgs: plan.cniArgs,
      runtimeConfig: {},
    };
    // ADD's planner, given the hot-plug name: the same injection and checks as at ADD.
    const one = planForRequest(request, plan.pod, defaultNetwork, [resolved], [ifName]);
    await enforceTenantPolicy(deps, resolver, label, pod.namespace, one, [defaultNetwork, resolved]);
    att = one.attachments[1]!;
    list = parseAttachmentConfig(one, att);
  } catch (err) {
    fail(err);
    return;
  }

  att.pending = true;
  plan.attachments.push(att);
  if (!plan.ifNames!.includes(ifName)) plan.ifNames!.push(ifName);
  try {
    // Before the delegates run: a crash from here on leaves an attachment the pod's DEL removes.
    await putPlan(deps, plan, label);
  } catch (err) {
    plan.attachments = plan.attachments.filter((a) => a !== att);
    fail(err);
    return;
  }
  let result: CniResult;
  try {
    result = await deps.lists.add(list, runtimeConfFor(deps, plan, att, plan.netns, []), signal);
  } catch (err) {
    // Undo this one (a plugin may have reserved an address before failing); the others stay.
    const failures = await deleteAttachments(deps, plan, [att], plan.netns, [], signal);
    if (failures.length > 0) await removeLeftLinks(deps, plan, failures, plan.netns, signal);
    plan.attachments = plan.attachments.filter((a) => a !== att);
    await putPlan(deps, plan, label).catch((e: unknown) =>
      deps.log.warn({ pod: label, ifName, err: describeCause(e) }, 'hot-plug: plan not updated after undo'),
    );
    fail(
      new EngineError(
        {
          code: EngineErrorCode.DelegateFailed,
          pod: label,
          network: addition.network,
          reason: `attaching ${ifName} failed: ${describeCause(err)}`,
        },
        { cause: err },
      ),
    );
    return;
  }
  delete att.pending;
  try {
    await putPlan(deps, plan, label);
  } catch (err) {
    // Attached, but recorded as pending: the next pass would re-plug it. Say so.
    deps.log.error(
      { pod: label, ifName, err: describeCause(err) },
      'hot-plug: attached but plan not updated',
    );
  }
  const ips = statusOf(att, result).flatMap((e) => e.ips ?? []);
  deps.log.debug({ containerId: plan.containerId, network: att.network, ifName, ips }, 'hot-plugged');
  outcome.added.push({ network: att.network, ifName, ips });
}

/** network-status from the result cache and NetworksReady, in one PATCH. */
async function writeStatus(
  deps: EngineDeps,
  plan: AttachmentPlan,
  pod: { namespace: string; name: string; uid: string },
  label: string,
  failed: HotplugFailure[],
  before: NetworksReadyCondition | undefined,
  signal?: AbortSignal,
): Promise<void> {
  if (!deps.cluster) return;
  const desired =
    failed.length > 0
      ? hotplugFailedCondition(
          failed.map((f) => ({ network: f.network, ifName: f.ifName || '-', error: f.error })),
        )
      : attachedCondition(plan.attachments);
  const ready = {
    ...desired,
    ...(before?.status !== desired.status ? { lastTransitionTime: conditionTime() } : {}),
  };
  try {
    const statuses = await rebuildNetworkStatus(deps, plan, new Map());
    await deps.cluster.writeNetworkStatus(pod, formatNetworkStatus(statuses), signal, ready);
  } catch (err) {
    deps.log.error({ pod: label, err: describeCause(err) }, 'hot-plug: cannot write network-status');
  }
}

async function refuse(
  deps: EngineDeps,
  pod: { namespace: string; name: string; uid: string },
  label: string,
  reason: string,
  before: NetworksReadyCondition | undefined,
  signal?: AbortSignal,
): Promise<void> {
  deps.log.warn({ pod: label, reason }, 'hot-plug refused');
  if (!deps.cluster) return;
  const desired = hotplugRefusedCondition(reason);
  const ready = {
    ...desired,
    ...(before?.status !== desired.status ? { lastTransitionTime: conditionTime() } : {}),
  };
  await deps.cluster
    .writeNetworksReady(pod, ready, signal)
    .catch((err: unknown) =>
      deps.log.error({ pod: label, err: describeCause(err) }, 'cannot write NetworksReady'),
    );
  if (deps.config.events === 'none') return;
  await deps.cluster
    .recordEvent(pod, 'Warning', NetworksReadyReason.HotplugRefused, desired.message.slice(0, 1024))
    .catch(() => undefined);
}

async function recordEvents(
  deps: EngineDeps,
  pod: { namespace: string; name: string; uid: string },
  outcome: HotplugOutcome,
): Promise<void> {
  const cluster = deps.cluster;
  const events = deps.config.events;
  if (!cluster || events === 'none') return;
  const sends: Promise<void>[] = [];
  for (const f of outcome.failed)
    sends.push(
      cluster.recordEvent(
        pod,
        'Warning',
        NetworksReadyReason.HotplugFailed,
        `hot-plug of ${describe(f)} failed: ${f.error}`.slice(0, 1024),
      ),
    );
  if (events === 'all') {
    for (const a of outcome.removed)
      sends.push(
        cluster.recordEvent(pod, 'Normal', 'RemovedInterface', `Remove ${a.ifName} from ${a.network}`),
      );
    for (const a of outcome.added)
      sends.push(
        cluster.recordEvent(
          pod,
          'Normal',
          'AddedInterface',
          `Add ${a.ifName} [${(a.ips ?? []).join(',')}] from ${a.network} (hot-plug)`,
        ),
      );
  }
  await Promise.allSettled(sends);
}
