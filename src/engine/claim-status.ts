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
 * How long a claim write may hold an ADD or a DEL: it is best effort, and DEL must not wait on an
 * API server that is down (the client's own timeout is 30 s).
 */
const CLAIM_WRITE_TIMEOUT_MS = 5_000;

/**
 * Applies `devicesOf(attachments)` to each claim the plan's DRA-backed attachments use, under
 * the pod's field manager, each write bounded by CLAIM_WRITE_TIMEOUT_MS; failures go to `failed`.
 */
async function applyPerClaim(
  deps: EngineDeps,
  plan: AttachmentPlan,
  devicesOf: (atts: PlannedAttachment[]) => ClaimDeviceStatus[],
  failed: (claim: string, atts: PlannedAttachment[], reason: string) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  const writer = deps.claimStatus;
  if (!writer || !plan.pod) return;
  const manager = claimFieldManager(plan.pod.uid);
  const bounded = AbortSignal.any([AbortSignal.timeout(CLAIM_WRITE_TIMEOUT_MS), ...(signal ? [signal] : [])]);
  await Promise.all(
    [...byClaim(plan)].map(async ([key, atts]) => {
      const d0 = atts[0]!.draDevice!;
      try {
        await writer.apply(
          { namespace: d0.claimNamespace, name: d0.claimName },
          manager,
          devicesOf(atts),
          bounded,
        );
      } catch (err) {
        await failed(key, atts, describeCause(err));
      }
    }),
  );
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
  const pod = plan.pod;
  await applyPerClaim(
    deps,
    plan,
    (atts) =>
      atts.map((att) => {
        const mac = statuses.find((x) => x.interface === att.ifName)?.mac;
        return {
          driver: att.draDevice!.driver,
          pool: att.draDevice!.pool,
          device: att.draDevice!.device,
          interfaceName: att.ifName,
          ips: cidrsFrom(results.get(att), att.ifName),
          ...(mac ? { hardwareAddress: mac } : {}),
          network: att.network,
        };
      }),
    async (claim, atts, reason) => {
      deps.log.warn(
        { pod: `${pod!.namespace}/${pod!.name}`, claim, err: reason },
        'cannot write the attachments into the ResourceClaim status',
      );
      const message = `cannot write ${atts.map((a) => a.ifName).join(', ')} into status.devices of ResourceClaim ${claim}: ${reason}`;
      await deps.cluster
        ?.recordEvent(pod!, 'Warning', 'ClaimStatusFailed', message.slice(0, 1024))
        .catch(() => undefined);
    },
    signal,
  );
}

/** DEL: the pod's entries leave its claims (a claim already gone is fine). Best effort, bounded. */
export async function clearClaimStatuses(
  deps: EngineDeps,
  plan: AttachmentPlan,
  signal?: AbortSignal,
): Promise<void> {
  await applyPerClaim(
    deps,
    plan,
    () => [],
    async (claim, _atts, reason) =>
      deps.log.warn({ claim, err: reason }, 'cannot remove the pod from the ResourceClaim status'),
    signal,
  );
}
