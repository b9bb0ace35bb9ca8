import type { CniRequest } from '../cni/cni-env.ts';
import type { ValidAttachment } from '../cni/valid-attachments.ts';
import { parseValidAttachments, ValidAttachmentsError } from '../cni/valid-attachments.ts';
import type { PodNetworkRequest } from './engine-deps.ts';
import { EngineError, EngineErrorCode } from './engine-error.ts';

/** The plugin object multinet was called with (a conf, or the one plugin of a conflist). */
export function multinetPluginObject(req: CniRequest): Record<string, unknown> {
  const config = req.config;
  if (!config) return {};
  const plugin = config.plugins[0]?.raw ?? config.raw;
  return { ...plugin, name: config.name, cniVersion: config.cniVersion };
}

/** GC's list of attachments still in use; a list that cannot be read fails the GC before it runs. */
function validAttachments(raw: Record<string, unknown>): ValidAttachment[] {
  try {
    return parseValidAttachments(raw);
  } catch (err) {
    if (!(err instanceof ValidAttachmentsError)) throw err;
    throw new EngineError(
      { code: EngineErrorCode.InvalidRequest, pod: 'GC', reason: err.message, cniCode: 7 },
      { cause: err },
    );
  }
}

/** Decodes a CNI call into the engine's request (same in thin mode and in the daemon). */
export function toPodNetworkRequest(req: CniRequest): PodNetworkRequest {
  if (req.command === 'VERSION') throw new Error('VERSION is answered by the protocol layer');
  const raw = multinetPluginObject(req);
  const runtimeConfig = raw['runtimeConfig'];
  const out: PodNetworkRequest = {
    command: req.command,
    containerId: req.containerId,
    netns: req.netns,
    ifName: req.ifName,
    cniArgs: req.args,
    cniPath: req.path,
    cniVersion: req.config?.cniVersion ?? '1.0.0',
    runtimeConfig:
      typeof runtimeConfig === 'object' && runtimeConfig !== null && !Array.isArray(runtimeConfig)
        ? (runtimeConfig as Record<string, unknown>)
        : {},
  };
  if (typeof raw['type'] === 'string') out.selfType = raw['type'];
  if (req.command === 'GC') out.validAttachments = validAttachments(raw);
  return out;
}
