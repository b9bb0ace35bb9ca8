import type { NetworkSelectionElement } from '../spec/network-selection-element.ts';

/**
 * Per-attachment capability args built from a selection element (NPWG v1.1 §4.1.2.1.3-10). Each
 * requested key must be declared by at least one plugin of the delegate's chain, otherwise the
 * attachment fails: silently dropping a requested static IP or MAC would be worse.
 */
const CAPABILITY_OF = {
  ips: 'ips',
  mac: 'mac',
  infinibandGuid: 'infinibandGUID',
  portMappings: 'portMappings',
  bandwidth: 'bandwidth',
} as const;

/**
 * cni-args keys that carry a capability-gated value: before NPWG v1.1, `ips` and `mac` went to
 * `args.cni`, and the reference plugins (host-local, static, bridge, tuning) still read them
 * there. Keys are compared case-folded because Go plugins decode `args.cni` case-insensitively.
 */
const GATED_CNI_ARGS: ReadonlyMap<string, string> = new Map([
  ['ips', 'ips'],
  ['mac', 'mac'],
  ['infinibandguid', 'infinibandGUID'],
  ['infiniband-guid', 'infinibandGUID'],
  ['portmappings', 'portMappings'],
  ['bandwidth', 'bandwidth'],
]);

export interface SelectionInjection {
  configText: string;
  capabilityArgs: Record<string, unknown>;
  /** The requested capability no plugin declares, if any. */
  missingCapability?: { key: string; capability: string };
}

function pluginObjects(conf: Record<string, unknown>): Record<string, unknown>[] {
  const plugins = conf['plugins'];
  if (Array.isArray(plugins))
    return plugins.filter((p): p is Record<string, unknown> => typeof p === 'object' && p !== null);
  return [conf];
}

function declares(plugins: Record<string, unknown>[], capability: string): boolean {
  return plugins.some((p) => {
    const caps = p['capabilities'];
    return (
      typeof caps === 'object' && caps !== null && (caps as Record<string, unknown>)[capability] === true
    );
  });
}

/** Bandwidth plugin needs a burst for each rate; default it to one second's worth (NPWG allows defaults). */
function withDefaultBursts(bw: NonNullable<NetworkSelectionElement['bandwidth']>): Record<string, number> {
  const out: Record<string, number> = { ...bw } as Record<string, number>;
  if (bw.ingressRate !== undefined && bw.ingressBurst === undefined) out['ingressBurst'] = bw.ingressRate;
  if (bw.egressRate !== undefined && bw.egressBurst === undefined) out['egressBurst'] = bw.egressRate;
  return out;
}

export function injectSelection(configText: string, sel: NetworkSelectionElement): SelectionInjection {
  const conf = JSON.parse(configText) as Record<string, unknown>;
  const plugins = pluginObjects(conf);
  const capabilityArgs: Record<string, unknown> = {};
  const requested: [keyof typeof CAPABILITY_OF, unknown][] = [
    ['ips', sel.ips],
    ['mac', sel.mac],
    ['infinibandGuid', sel.infinibandGuid],
    ['portMappings', sel.portMappings],
    ['bandwidth', sel.bandwidth ? withDefaultBursts(sel.bandwidth) : undefined],
  ];
  for (const [key, value] of requested) {
    if (value === undefined) continue;
    const capability = CAPABILITY_OF[key];
    if (!declares(plugins, capability)) {
      return { configText, capabilityArgs, missingCapability: { key, capability } };
    }
    capabilityArgs[capability] = value;
  }
  for (const key of Object.keys(sel.cniArgs ?? {})) {
    const capability = GATED_CNI_ARGS.get(key.toLowerCase());
    if (capability !== undefined && !declares(plugins, capability))
      return { configText, capabilityArgs, missingCapability: { key: `cni-args.${key}`, capability } };
  }
  let changed = false;
  if (sel.cniArgs && Object.keys(sel.cniArgs).length > 0) {
    // NPWG v1.1 §4.1.2.1.6: annotation cni-args go to `args.cni`; they win over the NAD's own args.
    for (const p of plugins) {
      const args =
        typeof p['args'] === 'object' && p['args'] !== null ? (p['args'] as Record<string, unknown>) : {};
      const cni =
        typeof args['cni'] === 'object' && args['cni'] !== null
          ? (args['cni'] as Record<string, unknown>)
          : {};
      p['args'] = { ...args, cni: { ...cni, ...sel.cniArgs } };
    }
    changed = true;
  }
  return { configText: changed ? JSON.stringify(conf) : configText, capabilityArgs };
}
