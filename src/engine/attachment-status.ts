import type { CniResult } from '../cni/result.ts';
import { convertResult } from '../cni/result-convert.ts';
import type { CheckMark, NetworkStatus } from '../spec/network-status.ts';
import { buildNetworkStatus, CHECK_MARK_KEY } from '../spec/network-status.ts';
import type { AttachmentPlan, PlannedAttachment } from './attachment-plan.ts';
import type { EngineDeps } from './engine-deps.ts';
import { parseAttachmentConfig } from './run-attachments.ts';
import { readDeviceInfo } from './attachment-device-info.ts';
import type { DeviceInfo } from '../spec/device-info.ts';

/** The network-status entries of one attachment from its delegates' result (NPWG §5.1.1). */
export function statusOf(
  att: PlannedAttachment,
  result: CniResult | undefined,
  deviceInfo?: DeviceInfo,
): NetworkStatus[] {
  const converted = result
    ? (convertResult(result, '1.1.0') as unknown as Parameters<typeof buildNetworkStatus>[0]['result'])
    : undefined;
  return buildNetworkStatus({
    network: att.network,
    isDefault: att.isDefault,
    ifName: att.ifName,
    result: converted,
    ...(att.defaultRoute ? { gateways: att.defaultRoute } : {}),
    ...(deviceInfo ? { deviceInfo } : {}),
  });
}

/** The gateways the IPAM result gives `ifName` (where `default-route` without gateways points). */
export function gatewaysFrom(result: CniResult | undefined, ifName: string): string[] {
  const r = result
    ? (convertResult(result, '1.1.0') as {
        interfaces?: { name: string }[];
        ips?: { gateway?: string; interface?: number }[];
      })
    : undefined;
  const idx = r?.interfaces?.findIndex((i) => i.name === ifName) ?? -1;
  return (r?.ips ?? [])
    .filter((ip) => ip.gateway && (ip.interface === undefined || ip.interface === idx))
    .map((ip) => ip.gateway!);
}

/** The addresses (CIDR, as the delegate returned them) the result gives `ifName`. */
export function cidrsFrom(result: CniResult | undefined, ifName: string): string[] {
  const r = result
    ? (convertResult(result, '1.1.0') as {
        interfaces?: { name: string }[];
        ips?: { address: string; interface?: number }[];
      })
    : undefined;
  const idx = r?.interfaces?.findIndex((i) => i.name === ifName) ?? -1;
  return (r?.ips ?? [])
    .filter((ip) => ip.interface === undefined || ip.interface === idx)
    .map((ip) => ip.address);
}

/**
 * network-status for a plan as ADD wrote it, from the result cache (no API read), with a drift
 * mark on the entries of each attachment in `marks` (by interface name). A result that is no
 * longer cached gives the minimal entry ADD writes for a plugin that returned none.
 */
export async function rebuildNetworkStatus(
  deps: EngineDeps,
  plan: AttachmentPlan,
  marks: ReadonlyMap<string, CheckMark>,
): Promise<NetworkStatus[]> {
  const out: NetworkStatus[] = [];
  for (const att of plan.attachments) {
    let result: CniResult | undefined;
    try {
      const list = parseAttachmentConfig(plan, att);
      result = await deps.lists.getCachedResult?.(
        list,
        { containerId: plan.containerId, ifName: att.ifName },
        '1.1.0',
      );
    } catch {
      result = undefined;
    }
    // ADD resolved `default-route` without gateways to the IPAM gateways before writing status.
    const resolved =
      att.defaultRoute && att.defaultRoute.length === 0
        ? { ...att, defaultRoute: gatewaysFrom(result, att.ifName) }
        : att;
    // The CNI device-info file stays until DEL (device-info spec §4.2.1): it still says what ADD wrote.
    const entries = statusOf(resolved, result, await readDeviceInfo(deps, plan, att));
    const mark = marks.get(att.ifName);
    if (mark) for (const e of entries) e[CHECK_MARK_KEY] = { ...mark };
    out.push(...entries);
  }
  return out;
}
