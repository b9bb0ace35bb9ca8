import { CniErrorCode, relayableCode } from '../cni/cni-error.ts';
import type { CniResult } from '../cni/result.ts';
import { convertResult } from '../cni/result-convert.ts';
import type { PodInfo } from '../k8s/cluster-view.ts';
import type { NetworkStatus } from '../spec/network-status.ts';
import { formatNetworkStatus } from '../spec/network-status.ts';
import type { AttachmentPlan, PlannedAttachment } from './attachment-plan.ts';
import type { EngineDeps, PodNetworkRequest } from './engine-deps.ts';
import { EngineError, EngineErrorCode, describeCause } from './engine-error.ts';
import { resolvePod } from './lookup-pod.ts';
import { enforceTenantPolicy } from './enforce-tenant-policy.ts';
import { resolveAndPlan } from './resolve-plan.ts';
import type { PodIdentity } from './pod-identity.ts';
import { podIdentityFromArgs, podLabel } from './pod-identity.ts';
import { NetworkResolver } from './resolve-networks.ts';
import { deleteAttachments, parseAttachmentConfig, runtimeConfFor } from './run-attachments.ts';
import { removeStalePlan } from './remove-stale-plan.ts';
import { gatewaysFrom, statusOf } from './attachment-status.ts';
import { attachedCondition, conditionTime, missingCondition } from './networks-ready.ts';
import { writeClaimStatuses } from './claim-status.ts';
import { assignDevices } from './assign-devices.ts';
import { prepareDeviceInfo, readDeviceInfo, removeDeviceInfo } from './attachment-device-info.ts';
import type { DeviceInfo } from '../spec/device-info.ts';

/**
 * ADD: plan (pure), cache the plan, run the delegates in order, move the default route if asked,
 * write network-status. Any failure undoes every attachment already made, in reverse, and
 * surfaces as one EngineError naming the pod, the network and the cause.
 */
export async function addPod(
  deps: EngineDeps,
  req: PodNetworkRequest,
  signal?: AbortSignal,
): Promise<CniResult> {
  const identity = podIdentityFromArgs(req.cniArgs);
  const label = podLabel(identity, req.containerId);
  const seen: { pod?: PodInfo } = {};
  try {
    return await attachPod(deps, req, identity, label, seen, signal);
  } catch (err) {
    await recordAddFailed(deps, identity, seen.pod, err);
    await markNetworksMissing(deps, identity, seen.pod, err, signal);
    throw err;
  }
}

/**
 * NetworksReady=False (NetworkMissing) on a pod whose ADD failed, naming the network: the pod may
 * still carry True from a sandbox it had before (a reboot re-creates sandboxes), and a human
 * reading `kubectl describe` sees which network is missing. Only for a pod read from the API
 * (its UID guards the write); skipped when the API is the problem, and a failure is only logged.
 */
async function markNetworksMissing(
  deps: EngineDeps,
  identity: PodIdentity | undefined,
  seen: PodInfo | undefined,
  err: unknown,
  signal?: AbortSignal,
): Promise<void> {
  if (!identity || !seen || !deps.cluster) return;
  const code = err instanceof EngineError ? err.code : undefined;
  if (code === EngineErrorCode.ClusterUnavailable || code === EngineErrorCode.StatusWriteFailed) return;
  if (signal?.aborted) return;
  const cause = err instanceof EngineError ? `${err.code}: ${err.reason}` : describeCause(err);
  const pod = { namespace: identity.namespace, name: identity.name, uid: identity.uid || seen.uid };
  const ready = {
    ...missingCondition(err instanceof EngineError ? err.network : undefined, cause),
    lastTransitionTime: conditionTime(),
  };
  await deps.cluster
    .writeNetworksReady(pod, ready, signal)
    .catch((e: unknown) =>
      deps.log.warn(
        { pod: `${pod.namespace}/${pod.name}`, err: describeCause(e) },
        'cannot write NetworksReady',
      ),
    );
}

/**
 * The Warning event docs/troubleshooting.md promises for every failed ADD that names a pod,
 * before planning (bad annotation, unknown or forbidden network) as well as after. Skipped when
 * the API cannot be reached: the event could not be written either, and thin mode would wait.
 * The daemon's recorder sends it in the background; a failure to record is only logged there.
 */
async function recordAddFailed(
  deps: EngineDeps,
  identity: PodIdentity | undefined,
  seen: PodInfo | undefined,
  err: unknown,
): Promise<void> {
  if (!identity || !deps.cluster || deps.config.events === 'none') return;
  if (err instanceof EngineError && err.code === EngineErrorCode.ClusterUnavailable) return;
  // kubectl describe matches events by UID: use the API's when the runtime sent none.
  const pod = { namespace: identity.namespace, name: identity.name, uid: identity.uid || seen?.uid || '' };
  await deps.cluster
    .recordEvent(pod, 'Warning', 'AddNetworkFailed', eventMessage(err))
    .catch(() => undefined);
}

/** The stable code first, as in the CNI error's msg (docs/troubleshooting.md), then the story. */
function eventMessage(err: unknown): string {
  const text = err instanceof EngineError ? `${err.code}: ${err.message}` : describeCause(err);
  return text.slice(0, 1024);
}

async function attachPod(
  deps: EngineDeps,
  req: PodNetworkRequest,
  identity: PodIdentity | undefined,
  label: string,
  seen: { pod?: PodInfo },
  signal?: AbortSignal,
): Promise<CniResult> {
  if (req.netns !== '' && (await deps.nodeNetns?.isNodeNetns(req.netns)))
    throw new EngineError({
      code: EngineErrorCode.InvalidRequest,
      pod: label,
      reason: `CNI_NETNS ${req.netns} is the node's own network namespace: refusing to configure it`,
      cniCode: CniErrorCode.InvalidNetNs,
    });
  const indicator = deps.config.readinessIndicatorFile;
  if (indicator && !(await deps.confs.exists(indicator)))
    // Fail fast with "try again later" rather than hold the runtime's call open (Multus polls 45 s).
    throw new EngineError({
      code: EngineErrorCode.DefaultNetworkUnavailable,
      pod: label,
      reason: `the default network is not ready: readiness indicator file ${indicator} does not exist`,
      retryable: true,
    });
  await removeStalePlan(deps, req, label, signal);

  const pod: PodInfo | undefined = await resolvePod(deps, req, identity, label, signal);
  if (pod) seen.pod = pod;
  const resolver = new NetworkResolver(deps, label);
  const podRef = identity ? { ...identity, uid: pod?.uid ?? identity.uid } : undefined;
  const { plan, networks } = await resolveAndPlan(resolver, req, podRef, pod, identity?.namespace);
  await enforceTenantPolicy(deps, resolver, label, identity?.namespace, plan, networks);
  // After the policy check: that judges what the NAD's author wrote; the device is the kubelet's.
  await assignDevices(deps, plan, label, signal, pod?.resourceClaims);
  const lists = plan.attachments.map((att) => parseAttachmentConfig(plan, att, req.selfType));

  try {
    await deps.plans.put(plan);
  } catch (err) {
    throw new EngineError(
      {
        code: EngineErrorCode.CacheFailed,
        pod: label,
        reason: `cannot write the plan cache: ${describeCause(err)}`,
        cniCode: CniErrorCode.IoFailure,
      },
      { cause: err },
    );
  }

  const started: PlannedAttachment[] = [];
  const failed = new Set<PlannedAttachment>();
  const results = new Map<PlannedAttachment, CniResult>();
  const deviceInfos = new Map<PlannedAttachment, DeviceInfo>();
  // Each attachment's result cache write runs while the next delegate does (a write costs about
  // 0.6 ms of file system round trips); all have settled before status, answer or undo.
  const cacheWrites: { att: PlannedAttachment; write: Promise<void> }[] = [];
  const runOne = async (i: number) => {
    const att = plan.attachments[i]!;
    try {
      await prepareDeviceInfo(deps, plan, att, label);
    } catch (err) {
      // Nothing of this attachment ran: its file is all there is to remove.
      await removeDeviceInfo(deps, plan, att);
      throw err;
    }
    started.push(att);
    try {
      const t0 = deps.now();
      results.set(
        att,
        await deps.lists.add(
          lists[i]!,
          runtimeConfFor(deps, plan, att, req.netns, req.cniPath),
          signal,
          (write) => cacheWrites.push({ att, write }),
        ),
      );
      deps.log.debug(
        { containerId: req.containerId, network: att.network, ifName: att.ifName, ms: deps.now() - t0 },
        'attached',
      );
    } catch (err) {
      failed.add(att);
      const raw = (err as { code?: unknown } | null)?.code;
      const code = relayableCode(raw);
      // The plugin's own CNI code reaches the runtime (SPEC §5 "Error"); one that would mislead it
      // becomes 999, and the reason keeps what the plugin printed.
      const unrelayed = typeof raw === 'number' && code === undefined ? ` (plugin code ${raw})` : '';
      throw new EngineError(
        {
          code: EngineErrorCode.DelegateFailed,
          pod: label,
          network: att.network,
          reason: `attaching ${att.ifName} failed: ${describeCause(err)}${unrelayed}`,
          cniCode: code,
          retryable: code === CniErrorCode.TryAgainLater,
        },
        { cause: err },
      );
    }
    const info = await readDeviceInfo(deps, plan, att);
    if (info) deviceInfos.set(att, info);
  };

  let statuses: NetworkStatus[] = [];
  try {
    await runOne(0);
    if (deps.config.parallelAttach) {
      // Extension (off by default): NPWG §7.3 requires serial attachment. All are awaited so
      // that every started attachment is known before undo runs.
      const settled = await Promise.allSettled(plan.attachments.slice(1).map((_, i) => runOne(i + 1)));
      const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (failed) throw failed.reason;
    } else {
      for (let i = 1; i < plan.attachments.length; i++) await runOne(i);
    }
    await settleCacheWrites(cacheWrites, label);
    await applyDefaultRoute(deps, plan, results, label, signal);
    statuses = plan.attachments.flatMap((att) => statusOf(att, results.get(att), deviceInfos.get(att)));
    if (pod && deps.cluster) await writeStatus(deps, plan, statuses, label, signal);
  } catch (err) {
    // A write still in flight would recreate the cache file that undo's DEL removes.
    await Promise.allSettled(cacheWrites.map((c) => c.write));
    await undo(deps, plan, started, failed, req, label, err, signal);
    throw err;
  }
  await recordAdded(deps, plan, statuses);
  await writeClaimStatuses(deps, plan, results, statuses, signal);
  const first = results.get(plan.attachments[0]!)!;
  return convertResult(first, req.cniVersion);
}

/** Waits for every deferred result cache write; the first that failed fails the ADD (then undone). */
async function settleCacheWrites(
  writes: { att: PlannedAttachment; write: Promise<void> }[],
  label: string,
): Promise<void> {
  const settled = await Promise.allSettled(writes.map((w) => w.write));
  const i = settled.findIndex((s) => s.status === 'rejected');
  if (i < 0) return;
  const { att } = writes[i]!;
  const cause = (settled[i] as PromiseRejectedResult).reason;
  throw new EngineError(
    {
      code: EngineErrorCode.CacheFailed,
      pod: label,
      network: att.network,
      reason: `cannot write the result cache of ${att.ifName}: ${describeCause(cause)}`,
      cniCode: CniErrorCode.IoFailure,
    },
    { cause },
  );
}

async function applyDefaultRoute(
  deps: EngineDeps,
  plan: AttachmentPlan,
  results: Map<PlannedAttachment, CniResult>,
  label: string,
  signal?: AbortSignal,
): Promise<void> {
  const att = plan.attachments.find((a) => a.defaultRoute !== undefined);
  if (!att) return;
  const gateways =
    att.defaultRoute!.length > 0 ? att.defaultRoute! : gatewaysFrom(results.get(att), att.ifName);
  if (gateways.length === 0)
    throw new EngineError({
      code: EngineErrorCode.RouteFailed,
      pod: label,
      network: att.network,
      reason: `"default-route" was requested but neither the annotation nor the IPAM result gives a gateway for ${att.ifName}`,
      cniCode: 7,
    });
  att.defaultRoute = gateways;
  try {
    await deps.routes.setDefaultRoute(plan.netns, att.ifName, gateways, signal);
  } catch (err) {
    throw new EngineError(
      {
        code: EngineErrorCode.RouteFailed,
        pod: label,
        network: att.network,
        reason: `cannot move the default route to ${att.ifName} via ${gateways.join(', ')}: ${describeCause(err)}`,
      },
      { cause: err },
    );
  }
}

async function writeStatus(
  deps: EngineDeps,
  plan: AttachmentPlan,
  statuses: NetworkStatus[],
  label: string,
  signal?: AbortSignal,
): Promise<void> {
  try {
    // The condition rides on the same PATCH: a readiness gate costs no extra API request.
    const ready = { ...attachedCondition(plan.attachments), lastTransitionTime: conditionTime() };
    await deps.cluster!.writeNetworkStatus(plan.pod!, formatNetworkStatus(statuses), signal, ready);
  } catch (err) {
    throw new EngineError(
      {
        code: EngineErrorCode.StatusWriteFailed,
        pod: label,
        reason: `cannot write the network-status annotation: ${describeCause(err)}`,
        retryable: true,
      },
      { cause: err },
    );
  }
}

async function undo(
  deps: EngineDeps,
  plan: AttachmentPlan,
  started: PlannedAttachment[],
  failed: Set<PlannedAttachment>,
  req: PodNetworkRequest,
  label: string,
  cause: unknown,
  signal?: AbortSignal,
): Promise<void> {
  // The failing attachment is undone too: a plugin may have allocated an address before failing.
  // Its DEL may fail for the same reason its ADD did (macvlan: master missing); that alone must
  // not keep the plan, or every later DEL would fail the same way and the sandbox never goes.
  const failedIfs = new Set([...failed].map((a) => a.ifName));
  const all = await deleteAttachments(deps, plan, started, req.netns, req.cniPath, signal);
  await removeLeftLinks(
    deps,
    plan,
    all.filter((f) => failedIfs.has(f.ifName)),
    req.netns,
    signal,
  );
  const failures = all.filter((f) => !failedIfs.has(f.ifName));
  if (failures.length === 0) {
    await deps.plans
      .delete(plan.containerId)
      .catch((err: unknown) =>
        deps.log.warn({ containerId: plan.containerId, err: describeCause(err) }, 'cannot remove plan cache'),
      );
  } else {
    // Keep the plan: the runtime's DEL (which always follows a failed ADD) retries from it.
    deps.log.error(
      { containerId: plan.containerId, failures },
      'undo after failed ADD incomplete; plan kept for DEL',
    );
  }
  const network = cause instanceof EngineError ? cause.network : undefined;
  deps.log.warn(
    { pod: label, containerId: plan.containerId, network, err: describeCause(cause) },
    'ADD failed',
  );
}

/**
 * A plugin whose ADD and DEL both failed may leave its interface in the pod: the reference
 * macvlan (v1.1) keeps its link when IPAM fails, and its DEL fails on the same IPAM error before
 * it removes the link. The interface has the name multinet chose for this attachment, so it is
 * removed here: an ADD that failed leaves nothing in the pod.
 */
export async function removeLeftLinks(
  deps: EngineDeps,
  plan: AttachmentPlan,
  failures: { network: string; ifName: string }[],
  netns: string,
  signal?: AbortSignal,
): Promise<void> {
  if (!deps.links || netns === '') return;
  for (const f of failures) {
    try {
      if (await deps.links.removeLink(netns, f.ifName, signal))
        deps.log.warn(
          { containerId: plan.containerId, network: f.network, ifName: f.ifName },
          'removed the interface a failed ADD left in the pod (its DEL failed too)',
        );
    } catch (err) {
      deps.log.error(
        { containerId: plan.containerId, network: f.network, ifName: f.ifName, err: describeCause(err) },
        'cannot remove the interface a failed ADD left in the pod',
      );
    }
  }
}

async function recordAdded(deps: EngineDeps, plan: AttachmentPlan, statuses: NetworkStatus[]): Promise<void> {
  if (!plan.pod || !deps.cluster || deps.config.events !== 'all') return;
  const cluster = deps.cluster;
  const pod = plan.pod;
  await Promise.allSettled(
    plan.attachments.map((att) => {
      const ips = statuses.find((s) => s.interface === att.ifName)?.ips ?? [];
      return cluster.recordEvent(
        pod,
        'Normal',
        'AddedInterface',
        `Add ${att.ifName} [${ips.join(',')}] from ${att.network}`,
      );
    }),
  );
}
