import type { CniRequest } from '../cni/cni-env.ts';
import type { PodNetworkRequest } from './engine-deps.ts';

/** The plugin object multinet was called with (a conf, or the one plugin of a conflist). */
export function multinetPluginObject(req: CniRequest): Record<string, unknown> {
  const config = req.config;
  if (!config) return {};
  const plugin = config.plugins[0]?.raw ?? config.raw;
  return { ...plugin, name: config.name, cniVersion: config.cniVersion };
}

function validAttachments(
  raw: Record<string, unknown>,
): { containerId: string; ifName: string }[] | undefined {
  const list = raw['cni.dev/valid-attachments'] ?? raw['cni.dev/attachments'];
  if (!Array.isArray(list)) return undefined;
  return list
    .filter((a): a is Record<string, unknown> => typeof a === 'object' && a !== null)
    .map((a) => ({ containerId: String(a['containerID'] ?? ''), ifName: String(a['ifname'] ?? '') }));
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
  const valid = validAttachments(raw);
  if (valid) out.validAttachments = valid;
  return out;
}
