import { stat } from 'node:fs/promises';
import type { NodeNetnsCheck } from '../engine/engine-deps.ts';

/**
 * Tells whether a CNI_NETNS path is the node's own network namespace: the same nsfs inode as
 * ours (/proc/self/ns/net: thin mode runs in the runtime's namespace, the daemon with
 * hostNetwork) or as PID 1's (the host's init with hostPID, else the pod's own init, which
 * shares the daemon's namespace). A pod namespace is never either. A path that cannot be
 * stat'ed is left to the plugins, which report it with their own error.
 */
export class ProcNodeNetnsCheck implements NodeNetnsCheck {
  constructor(private readonly own: string[] = ['/proc/self/ns/net', '/proc/1/ns/net']) {}

  async isNodeNetns(path: string): Promise<boolean> {
    const target = await stat(path).catch(() => undefined);
    if (!target) return false;
    for (const p of this.own) {
      const st = await stat(p).catch(() => undefined);
      if (st && st.dev === target.dev && st.ino === target.ino) return true;
    }
    return false;
  }
}
