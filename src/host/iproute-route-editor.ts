import { execFile } from 'node:child_process';
import { isIPv6 } from 'node:net';
import { promisify } from 'node:util';
import type { RouteEditor } from '../engine/engine-deps.ts';

const run = promisify(execFile);

/**
 * Default-route changes inside a pod's network namespace, done by iproute2 started in that
 * namespace with nsenter: our own process never enters a namespace.
 */
export class IprouteRouteEditor implements RouteEditor {
  constructor(private readonly opts: { nsenter?: string; ip?: string; timeoutMs?: number } = {}) {}

  private ip(netns: string, args: string[], signal?: AbortSignal) {
    return run(this.opts.nsenter ?? 'nsenter', [`--net=${netns}`, '--', this.opts.ip ?? 'ip', ...args], {
      timeout: this.opts.timeoutMs ?? 10_000,
      ...(signal ? { signal } : {}),
    });
  }

  async setDefaultRoute(
    netns: string,
    ifName: string,
    gateways: string[],
    signal?: AbortSignal,
  ): Promise<void> {
    for (const family of ['-4', '-6'] as const) {
      const gws = gateways.filter((g) => (family === '-6') === isIPv6(g));
      if (gws.length === 0) continue;
      // Remove every default route of this family (on any interface), then add ours.
      const { stdout } = await this.ip(netns, [family, '-j', 'route', 'show', 'default'], signal);
      const routes = (stdout.trim() ? JSON.parse(stdout) : []) as {
        dev?: string;
        gateway?: string;
        metric?: number;
      }[];
      for (const r of routes) {
        const args = [family, 'route', 'del', 'default'];
        if (r.gateway) args.push('via', r.gateway);
        if (r.dev) args.push('dev', r.dev);
        if (r.metric !== undefined) args.push('metric', String(r.metric));
        await this.ip(netns, args, signal);
      }
      // Several gateways of one family become equal-cost next hops.
      const args =
        gws.length === 1
          ? [family, 'route', 'add', 'default', 'via', gws[0]!, 'dev', ifName]
          : [family, 'route', 'add', 'default', ...gws.flatMap((g) => ['nexthop', 'via', g, 'dev', ifName])];
      await this.ip(netns, args, signal);
    }
  }
}
