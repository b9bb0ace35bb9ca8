import type { PluginConfig } from './network-config.ts';
import type { CniResult } from './result.ts';

/** An attachment that GC must keep (SPEC §2 "GC"). Key spellings are the spec's. */
export interface GcAttachment {
  containerId: string;
  ifName: string;
}

export interface PluginRequestOptions {
  /** The list's name; every plugin runs under it. */
  name: string;
  /** The selected version of the list (selectVersion / negotiation). */
  cniVersion: string;
  /** Previous plugin's result on ADD, the cached final result on DEL/CHECK. */
  prevResult?: CniResult | undefined;
  /** Capability args offered by the runtime (the CNI repository's CONVENTIONS.md); each plugin gets only what it declares. */
  capabilityArgs?: Record<string, unknown> | undefined;
  /** Set only for GC; an explicit (possibly empty) list, as libcni's nil list sends nothing. */
  validAttachments?: readonly GcAttachment[] | undefined;
}

/**
 * The configuration one plugin receives on stdin (SPEC §3 "Deriving request configuration",
 * libcni buildOneConfig/injectRuntimeConfig). Every field we do not own passes through
 * untouched, including unknown ones and `args`.
 *
 * - `name` and `cniVersion` come from the list.
 * - `runtimeConfig` = the capabilities the plugin marks `true` for which the caller supplied a
 *   value; like libcni it replaces a static `runtimeConfig` only when non-empty, so an admin's
 *   static value still works for plugins given no capability args.
 * - `capabilities` is removed: SPEC §3 says it MUST NOT be set. libcni leaves it in, but no
 *   reference plugin reads it (the integration tests run portmap and bandwidth without it), so
 *   the spec wins.
 * - keys prefixed `cni.dev/` are reserved for the runtime: admin-written ones are dropped and
 *   GC gets `cni.dev/valid-attachments` plus the tag-era `cni.dev/attachments` (cni#1101).
 */
export function buildPluginRequestConfig(
  plugin: PluginConfig,
  options: PluginRequestOptions,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(plugin.raw)) {
    if (k === 'capabilities' || k.startsWith('cni.dev/')) continue;
    // defineProperty keeps a literal "__proto__" key a plain field, as JSON.parse made it.
    Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  }
  out.name = options.name;
  out.cniVersion = options.cniVersion;
  if (options.prevResult !== undefined) out.prevResult = options.prevResult;
  else delete out.prevResult;
  if (options.validAttachments !== undefined) {
    const attachments = options.validAttachments.map((a) => ({
      containerID: a.containerId,
      ifname: a.ifName,
    }));
    out['cni.dev/valid-attachments'] = attachments;
    out['cni.dev/attachments'] = attachments;
    return out;
  }
  const runtimeConfig = buildRuntimeConfig(plugin, options.capabilityArgs ?? {});
  if (Object.keys(runtimeConfig).length > 0) out.runtimeConfig = runtimeConfig;
  return out;
}

/** SPEC §3 "Deriving runtimeConfig": declared `true` and supplied by the runtime. */
export function buildRuntimeConfig(
  plugin: PluginConfig,
  capabilityArgs: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [cap, enabled] of Object.entries(plugin.capabilities)) {
    if (enabled && Object.hasOwn(capabilityArgs, cap) && capabilityArgs[cap] !== undefined) {
      out[cap] = capabilityArgs[cap];
    }
  }
  return out;
}
