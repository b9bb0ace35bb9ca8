import { CniErrorCode } from '../cni/cni-error.ts';
import type { DeviceInfo } from '../spec/device-info.ts';
import type { AttachmentPlan, PlannedAttachment } from './attachment-plan.ts';
import type { EngineDeps } from './engine-deps.ts';
import { EngineError, EngineErrorCode, describeCause } from './engine-error.ts';

/**
 * The CNI device-info file of one attachment around its delegates (device-info spec §4.2.1, §6.1.1):
 * prepared before they run (the device plugin's map copied in), read after, removed at DEL.
 * Device-info is information: a file another program got wrong is logged and left out of
 * network-status; only a directory multinet cannot safely write fails the attachment.
 */
export async function prepareDeviceInfo(
  deps: EngineDeps,
  plan: AttachmentPlan,
  att: PlannedAttachment,
  label: string,
): Promise<void> {
  if (!att.deviceInfoFile || !deps.deviceInfo) return;
  const device =
    att.resourceName !== undefined && att.deviceId !== undefined
      ? { resourceName: att.resourceName, deviceId: att.deviceId }
      : undefined;
  try {
    const prepared = await deps.deviceInfo.prepare(att.deviceInfoFile, device);
    if (prepared.problem)
      deps.log.warn(
        { containerId: plan.containerId, network: att.network, ifName: att.ifName, err: prepared.problem },
        "ignoring the device plugin's device-info file",
      );
  } catch (err) {
    throw new EngineError(
      {
        code: EngineErrorCode.DeviceInfoFailed,
        pod: label,
        network: att.network,
        reason: `cannot prepare the device-info file ${att.deviceInfoFile}: ${describeCause(err)}`,
        cniCode: CniErrorCode.IoFailure,
      },
      { cause: err },
    );
  }
}

/** The attachment's device-info after its delegates ran, for network-status; undefined if none. */
export async function readDeviceInfo(
  deps: EngineDeps,
  plan: AttachmentPlan,
  att: PlannedAttachment,
): Promise<DeviceInfo | undefined> {
  if (!att.deviceInfoFile || !deps.deviceInfo) return undefined;
  try {
    return await deps.deviceInfo.read(att.deviceInfoFile);
  } catch (err) {
    deps.log.warn(
      { containerId: plan.containerId, network: att.network, ifName: att.ifName, err: describeCause(err) },
      'device-info left out of network-status',
    );
    return undefined;
  }
}

/** DEL (and undo): the attachment's device-info file goes with it (device-info spec §4.2.1). */
export async function removeDeviceInfo(
  deps: EngineDeps,
  plan: AttachmentPlan,
  att: PlannedAttachment,
): Promise<void> {
  if (!att.deviceInfoFile || !deps.deviceInfo) return;
  try {
    await deps.deviceInfo.remove(att.deviceInfoFile);
  } catch (err) {
    deps.log.warn(
      { containerId: plan.containerId, network: att.network, ifName: att.ifName, err: describeCause(err) },
      'cannot remove the device-info file',
    );
  }
}
