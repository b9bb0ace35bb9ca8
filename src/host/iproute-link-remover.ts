import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { LinkRemover } from '../engine/engine-deps.ts';

const run = promisify(execFile);

/** `ip link del` inside a pod's network namespace, started there with nsenter. */
export class IprouteLinkRemover implements LinkRemover {
  constructor(private readonly opts: { nsenter?: string; ip?: string; timeoutMs?: number } = {}) {}

  async removeLink(netns: string, ifName: string, signal?: AbortSignal): Promise<boolean> {
    const ip = (args: string[]) =>
      run(this.opts.nsenter ?? 'nsenter', [`--net=${netns}`, '--', this.opts.ip ?? 'ip', ...args], {
        timeout: this.opts.timeoutMs ?? 10_000,
        ...(signal ? { signal } : {}),
      });
    const { stdout } = await ip(['-j', 'link', 'show']);
    const links = (stdout.trim() ? JSON.parse(stdout) : []) as { ifname?: string }[];
    if (!links.some((l) => l.ifname === ifName)) return false;
    await ip(['link', 'del', 'dev', ifName]);
    return true;
  }
}
