import type { ClaimDeviceStatus } from '../k8s/dra.ts';
import type { CniResult } from '../cni/result.ts';
import type { NetworkStatus } from '../spec/network-status.ts';
import { cidrsFrom } from './attachment-status.ts';
import type { AttachmentPlan, PlannedAttachment } from './attachment-plan.ts';
import type { EngineDeps } from './engine-deps.ts';
import { describeCause } from './engine-error.ts';

/** The field manager of one pod's entries: server-side apply removes what it no longer applies. */
export function claimFieldManager(podUid: string): string {
  return `multinet/${podUid}`.slice(0, 128);
}

/** The plan's attachments backed by a DRA device, by claim (`namespace/name`). */
function byClaim(plan: AttachmentPlan): Map<string, PlannedAttachment[]> {
  const out = new Map<string, PlannedAttachment[]>();
  for (const att of plan.attachments) {
    if (!att.draDevice) continue;
    const key = `${att.draDevice.claimNamespace}/${att.draDevice.claimName}`;
    out.set(key, [...(out.get(key) ?? []), att]);
  }
  return out;
}

/**
 * After a successful ADD: each attachment backed by a DRA device goes into its claim's
 * status.devices (KEP-4817 networkData), one server-side apply per claim under the pod's own
 * field manager. Best effort: the pod is attached whatever the claim says; a failure is logged
 * and recorded as a Warning Event `ClaimStatusFailed` (docs/devices.md#dra-claims).
 */
export async function writeClaimStatuses(
  deps: EngineDeps,
  plan: AttachmentPlan,
  results: ReadonlyMap<PlannedAttachment, CniResult>,
  statuses: readonly NetworkStatus[],
  signal?: AbortSignal,
): Promise<void> {
  const writer = deps.claimStatus;
  if (!writer || !plan.pod) return;
  const pod = plan.pod;
  await Promise.all(
    [...byClaim(plan)].map(async ([, atts]) => {
      const d0 = atts[0]!.draDevice!;
      const claim = { namespace: d0.claimNamespace, name: d0.claimName };
      const devices: ClaimDeviceStatus[] = atts.map((att) => {
        const s = statuses.find((x) => x.interface === att.ifName);
        return {
          driver: att.draDevice!.driver,
          pool: att.draDevice!.pool,
          device: att.draDevice!.device,
          interfaceName: att.ifName,
          ips: cidrsFrom(results.get(att), att.ifName),
          ...(s?.mac ? { hardwareAddress: s.mac } : {}),
          network: att.network,
        };
      });
      try {
        await writer.apply(claim, claimFieldManager(pod.uid), devices, signal);
      } catch (err) {
        const reason = describeCause(err);
        deps.log.warn(
          { pod: `${pod.namespace}/${pod.name}`, claim: `${claim.namespace}/${claim.name}`, err: reason },
          'cannot write the attachments into the ResourceClaim status',
        );
        await deps.cluster
          ?.recordEvent(
            pod,
            'Warning',
            'ClaimStatusFailed',
            `cannot write ${atts.map((a) => a.ifName).join(', ')} into status.devices of ResourceClaim ${claim.namespace}/${claim.name}: ${reason}`.slice(
              0,
              1024,
            ),
          )
          .catch(() => undefined);
      }
    }),
  );
}

/** DEL: the pod's entries leave its claims (a claim already gone is fine). Best effort. */
export async function clearClaimStatuses(
  deps: EngineDeps,
  plan: AttachmentPlan,
  signal?: AbortSignal,
): Promise<void> {
  const writer = deps.claimStatus;
  if (!writer || !plan.pod) return;
  const pod = plan.pod;
  await Promise.all(
    [...byClaim(plan)].map(async ([key, atts]) => {
      const d0 = atts[0]!.draDevice!;
      try {
        await writer.apply(
          { namespace: d0.claimNamespace, name: d0.claimName },
          claimFieldManager(pod.uid),
          [],
          signal,
        );
      } catch (err) {
        deps.log.warn(
          { claim: key, err: describeCause(err) },
          'cannot remove the pod from the ResourceClaim status',
        );
      }
    }),
  );
}
