import type { NetworkConfigList } from './network-config.ts';

const DEFAULT_DSTS = new Set(['0.0.0.0/0', '::/0']);

/**
 * Where a network's config makes the reference plugins install a default route in the pod, in
 * words (`plugins[0] (macvlan): ipam.routes dst 0.0.0.0/0`): an IPAM `routes` entry for
 * 0.0.0.0/0 or ::/0 (host-local, static; the plugin adds it via the interface), or bridge's
 * `isDefaultGateway`. A DHCP server's router option cannot be known offline.
 */
export function defaultRoutesIn(list: NetworkConfigList): string[] {
  const found: string[] = [];
  list.plugins.forEach((plugin, i) => {
    const at = `plugins[${i}] (${plugin.type})`;
    const ipam = plugin.raw['ipam'];
    const routes = ipam && typeof ipam === 'object' ? (ipam as Record<string, unknown>)['routes'] : undefined;
    if (Array.isArray(routes))
      for (const r of routes) {
        const dst = r && typeof r === 'object' ? (r as Record<string, unknown>)['dst'] : undefined;
        if (typeof dst === 'string' && DEFAULT_DSTS.has(dst.trim()))
          found.push(`${at}: ipam.routes dst ${dst}`);
      }
    if (plugin.raw['isDefaultGateway'] === true) found.push(`${at}: isDefaultGateway`);
  });
  return found;
}

const SEE = 'docs/annotations.md, "Default routes from additional networks"';

/** The warning for an additional network that installs a default route the pod did not ask for. */
export function strayDefaultRouteWarning(ifName: string, where: string[]): string {
  return (
    `adds a default route via ${ifName} (${where.join('; ')}) without "default-route": a second ` +
    `default route, ahead of eth0's, sends the pod's Service and Internet traffic over ${ifName} (${SEE})`
  );
}

/** The same, for the definition itself. */
export function definitionDefaultRouteWarning(where: string[]): string {
  return (
    `installs a default route in the pod (${where.join('; ')}): as an additional network without ` +
    `"default-route" it adds a second one, ahead of eth0's (${SEE})`
  );
}
