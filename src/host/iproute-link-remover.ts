import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { LinkRemover } from '../engine/engine-deps.ts';

const run = promisify(execFile);

/** The temporary name the reference plugins give a link before renaming it (ip.RandomVethName). */
export const TEMP_LINK_NAME = /^veth[0-9a-f]{8}$/;

interface ShownLink {
  ifname?: string;
  linkinfo?: { info_kind?: string };
}

/** `ip link del` inside a pod's network namespace, started there with nsenter. */
export class IprouteLinkRemover implements LinkRemover {
  constructor(private readonly opts: { nsenter?: string; ip?: string; timeoutMs?: number } = {}) {}

  private ip(netns: string, args: string[], signal?: AbortSignal) {
    return run(this.opts.nsenter ?? 'nsenter', [`--net=${netns}`, '--', this.opts.ip ?? 'ip', ...args], {
      timeout: this.opts.timeoutMs ?? 10_000,
      ...(signal ? { signal } : {}),
    });
  }

  private async links(netns: string, details: boolean, signal?: AbortSignal): Promise<ShownLink[]> {
    const { stdout } = await this.ip(netns, ['-j', ...(details ? ['-d'] : []), 'link', 'show'], signal);
    return (stdout.trim() ? JSON.parse(stdout) : []) as ShownLink[];
  }

  async removeLink(netns: string, ifName: string, signal?: AbortSignal): Promise<boolean> {
    if (!(await this.links(netns, false, signal)).some((l) => l.ifname === ifName)) return false;
    await this.ip(netns, ['link', 'del', 'dev', ifName], signal);
    return true;
  }

  async removeTempLinks(netns: string, kinds: readonly string[], signal?: AbortSignal): Promise<string[]> {
    const names = (await this.links(netns, true, signal))
      .filter((l) => TEMP_LINK_NAME.test(l.ifname ?? '') && kinds.includes(l.linkinfo?.info_kind ?? ''))
      .map((l) => l.ifname!);
    const removed: string[] = [];
    for (const name of names) {
      try {
        await this.ip(netns, ['link', 'del', 'dev', name], signal);
        removed.push(name);
      } catch (err) {
        // Gone meanwhile is fine; anything else is for the caller to log.
        if (!/Cannot find device/.test(String((err as { stderr?: unknown }).stderr ?? ''))) throw err;
      }
    }
    return removed;
  }
}
