import { join } from 'node:path';
import { cniDeviceInfoFileName, deviceIdProblem } from '../spec/device-info.ts';
import {
  DRA_DEVICE_ID_ATTRIBUTE,
  DRA_RESOURCE_NAME_ATTRIBUTE,
  RESOURCE_NAME_ANNOTATION,
} from '../spec/well-known.ts';
import type { PodDevices } from '../k8s/pod-resources.ts';
import type { DraDevice } from '../k8s/dra.ts';
import type { AttachmentPlan, PlannedAttachment } from './attachment-plan.ts';
import type { EngineDeps } from './engine-deps.ts';
import { EngineError, EngineErrorCode, describeCause } from './engine-error.ts';

/** The capability through which delegates learn their device-info file (device-info spec §5.1). */
export const DEVICE_INFO_CAPABILITY = 'CNIDeviceInfoFile';

function pluginObjects(conf: Record<string, unknown>): Record<string, unknown>[] {
  const plugins = conf['plugins'];
  if (Array.isArray(plugins))
    return plugins.filter((p): p is Record<string, unknown> => typeof p === 'object' && p !== null);
  return [conf];
}

/**
 * Multus's contract (pkg/types/conf.go delegateAddDeviceID, addDeviceIDInConfList): `deviceID`
 * and `pciBusID` set to the device ID at the top of a single config, or in every plugin of a
 * list. Everything else of the raw JSON is kept.
 */
export function injectDeviceId(configText: string, deviceId: string): string {
  const conf = JSON.parse(configText) as Record<string, unknown>;
  for (const plugin of pluginObjects(conf)) {
    plugin['deviceID'] = deviceId;
    plugin['pciBusID'] = deviceId;
  }
  return JSON.stringify(conf);
}

/** Whether a plugin of the config declares `capability` (libcni then hands it the value). */
export function declaresCapability(configText: string, capability: string): boolean {
  let conf: unknown;
  try {
    conf = JSON.parse(configText);
  } catch {
    return false;
  }
  if (typeof conf !== 'object' || conf === null) return false;
  return pluginObjects(conf as Record<string, unknown>).some((p) => {
    const caps = p['capabilities'];
    return (
      typeof caps === 'object' && caps !== null && (caps as Record<string, unknown>)[capability] === true
    );
  });
}

/**
 * Device-plugin resources and device-info files, decided before any delegate runs and kept in
 * the plan (docs/devices.md):
 * - each attachment whose NAD names a resource gets the next device of that resource allocated
 *   to the pod, in attachment order over the sorted device IDs (as Multus hands them out), so two
 *   attachments of one resource get two devices; the kubelet is asked once, and only when some
 *   attachment names a resource. Too few devices fails the pod before anything is attached.
 * - an attachment with a device, or one of whose plugins declares `CNIDeviceInfoFile`, gets its
 *   own CNI device-info file (device-info spec §4.2, §5.1.1).
 */
export async function assignDevices(
  deps: Pick<EngineDeps, 'config' | 'draDevices' | 'podResources' | 'deviceInfo'>,
  plan: AttachmentPlan,
  label: string,
  signal?: AbortSignal,
  /** The pod's ResourceClaim names (PodInfo.resourceClaims): DRA devices come from these. */
  claims: readonly string[] = [],
): Promise<void> {
  const wanting = plan.attachments.filter((a) => a.resourceName !== undefined);
  if (wanting.length > 0) {
    const dra = await claimDevices(deps, plan, label, wanting[0]!, claims, signal);
    const need = new Map<string, number>();
    for (const a of wanting) need.set(a.resourceName!, (need.get(a.resourceName!) ?? 0) + 1);
    const covered = [...need].every(([r, n]) => dra.filter((d) => d.resourceName === r).length >= n);
    // The kubelet is asked only when the claims do not cover every attachment (one call at most).
    const devices: PodDevices = covered
      ? new Map()
      : await podDevices(deps, plan, label, wanting[0]!, signal);
    // Device-plugin devices first, then those of the claims (Multus appends DRA's the same way).
    const pool = new Map<string, { id: string; dra?: DraDevice }[]>();
    for (const [resource, ids] of devices)
      pool.set(
        resource,
        ids.map((id) => ({ id })),
      );
    for (const d of dra) {
      const list = pool.get(d.resourceName) ?? [];
      list.push({ id: d.deviceId, dra: d });
      pool.set(d.resourceName, list);
    }
    const next = new Map<string, number>();
    for (const att of wanting) {
      const resource = att.resourceName!;
      const entries = pool.get(resource) ?? [];
      const index = next.get(resource) ?? 0;
      const entry = entries[index];
      if (entry === undefined)
        throw notAllocated(
          plan,
          att,
          label,
          entries.map((e) => e.id),
        );
      next.set(resource, index + 1);
      att.deviceId = entry.id;
      if (entry.dra)
        att.draDevice = {
          driver: entry.dra.driver,
          pool: entry.dra.pool,
          device: entry.dra.device,
          claimNamespace: entry.dra.claim.namespace,
          claimName: entry.dra.claim.name,
        };
      att.configText = injectDeviceId(att.configText, entry.id);
      att.capabilityArgs = { ...att.capabilityArgs, deviceID: entry.id };
    }
  }
  if (!deps.deviceInfo) return;
  for (const att of plan.attachments) {
    if (att.deviceId === undefined && !declaresCapability(att.configText, DEVICE_INFO_CAPABILITY)) continue;
    const name = cniDeviceInfoFileName(att.network, plan.containerId, att.ifName);
    att.deviceInfoFile = join(deps.config.deviceInfoDir, 'cni', name);
    att.capabilityArgs = { ...att.capabilityArgs, [DEVICE_INFO_CAPABILITY]: att.deviceInfoFile };
  }
}

/** The devices of the pod's DRA claims that back attachments ([] without claims or a reader). */
async function claimDevices(
  deps: Pick<EngineDeps, 'draDevices' | 'podResources'>,
  plan: AttachmentPlan,
  label: string,
  first: PlannedAttachment,
  claims: readonly string[],
  signal?: AbortSignal,
): Promise<DraDevice[]> {
  if (!deps.draDevices || !plan.pod || claims.length === 0) return [];
  let found: DraDevice[];
  try {
    found = await deps.draDevices.devicesFor({ ...plan.pod, claims }, signal);
  } catch (err) {
    throw new EngineError(
      {
        code: EngineErrorCode.DeviceLookupFailed,
        pod: label,
        network: first.network,
        reason: `the network needs a device of resource "${first.resourceName}", and the pod's DRA claims cannot be read: ${describeCause(err)}`,
        retryable: true,
      },
      { cause: err },
    );
  }
  for (const d of found) {
    const problem = deviceIdProblem(d.deviceId);
    if (problem)
      throw new EngineError({
        code: EngineErrorCode.DeviceLookupFailed,
        pod: label,
        network: first.network,
        reason: `device ${d.driver}/${d.pool}/${d.device} of ResourceClaim ${d.claim.namespace}/${d.claim.name} has a ${DRA_DEVICE_ID_ATTRIBUTE} that ${problem}; the DRA driver must publish printable IDs`,
        cniCode: 7,
      });
  }
  return found;
}

async function podDevices(
  deps: Pick<EngineDeps, 'draDevices' | 'podResources'>,
  plan: AttachmentPlan,
  label: string,
  first: PlannedAttachment,
  signal?: AbortSignal,
): Promise<PodDevices> {
  const lookupFailed = (reason: string, cause?: unknown, retryable = true) =>
    new EngineError(
      {
        code: EngineErrorCode.DeviceLookupFailed,
        pod: label,
        network: first.network,
        reason,
        retryable,
        ...(retryable ? {} : { cniCode: 7 }),
      },
      { cause },
    );
  if (!plan.pod)
    throw lookupFailed(
      `the network needs a device of resource "${first.resourceName}", but the call names no pod (K8S_POD_NAMESPACE/K8S_POD_NAME in CNI_ARGS) whose devices the kubelet could report`,
      undefined,
      false,
    );
  if (!deps.podResources)
    throw lookupFailed(
      `the network needs a device of resource "${first.resourceName}", but this multinet has no PodResources client`,
      undefined,
      false,
    );
  let devices: PodDevices;
  try {
    devices = await deps.podResources.podDevices(plan.pod, signal);
  } catch (err) {
    throw lookupFailed(describeCause(err), err);
  }
  for (const [resource, ids] of devices)
    for (const id of ids) {
      const problem = deviceIdProblem(id);
      if (problem)
        throw lookupFailed(
          `the kubelet reports a device of resource "${resource}" whose ID ${problem}; the device plugin must use printable IDs`,
          undefined,
          false,
        );
    }
  return devices;
}

function notAllocated(
  plan: AttachmentPlan,
  att: PlannedAttachment,
  label: string,
  ids: readonly string[],
): EngineError {
  const resource = att.resourceName!;
  const need = plan.attachments.filter((a) => a.resourceName === resource);
  const fix = `request it in a container's resources.limits ("${resource}": "${need.length}"), or give the pod a DRA claim of devices whose ResourceSlice attribute ${DRA_RESOURCE_NAME_ATTRIBUTE} is "${resource}"`;
  const reason =
    ids.length === 0
      ? `the NetworkAttachmentDefinition names resource "${resource}" (annotation ${RESOURCE_NAME_ANNOTATION}), but the kubelet and the pod's DRA claims allocated no device of it to this pod: ${fix}`
      : `the pod selects ${need.length} networks of resource "${resource}" (${need.map((a) => a.network).join(', ')}), each needing its own device, but the kubelet and the pod's DRA claims allocated ${ids.length} (${ids.join(', ')}): ${fix}`;
  return new EngineError({
    code: EngineErrorCode.DeviceNotAllocated,
    pod: label,
    network: att.network,
    reason,
    cniCode: 7,
  });
}
