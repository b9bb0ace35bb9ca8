/**
 * Finding and removing everything a test cluster makes, from its state file or, when that is
 * gone, from its names: processes in the nodes' network or mount namespaces or cgroups (kubelet,
 * containerd, shims, pods, the DaemonSet), the `mnc-*` namespaces and links, the `mnc-node*`
 * cgroups, the empty mount points it created. Used by stop(), `npm run cluster -- down`, the
 * signal handlers and the watchdog, so a killed test still leaves nothing.
 */
import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { readdir, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CLUSTER_PREFIX, removeTopology, topologyLeftovers } from './cluster-topology.ts';
import { cgroupHierarchies } from './cluster-node.ts';

/** Namespace identities ("net:[4026532...]") of the cluster's network namespaces. */
function clusterNetns(): Set<string> {
  const out = new Set<string>();
  let names: string[] = [];
  try {
    names = readdirSync('/run/netns').filter((n) => n.startsWith(CLUSTER_PREFIX));
  } catch {
    return out;
  }
  for (const n of names) {
    try {
      out.add(`net:[${statSync(join('/run/netns', n)).ino}]`);
    } catch {
      // removed meanwhile
    }
  }
  return out;
}

async function cgroupDirs(): Promise<string[]> {
  const out: string[] = [];
  for (const h of await cgroupHierarchies()) {
    for (const e of await readdir(h).catch(() => [] as string[])) {
      if (e.startsWith(`${CLUSTER_PREFIX}node`)) out.push(join(h, e));
    }
  }
  return out;
}

/** Depth-first: every directory below `dir`, deepest first, then `dir`. */
async function treeDeepestFirst(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (e.isDirectory()) out.push(...(await treeDeepestFirst(join(dir, e.name))));
  }
  out.push(dir);
  return out;
}

/** PIDs in the cluster: in its network namespaces, in the mount namespaces of `holders`, or in its cgroups. */
export async function clusterProcesses(holders: number[] = []): Promise<number[]> {
  const nets = clusterNetns();
  const mnts = new Set<string>();
  for (const h of holders) {
    try {
      mnts.add(readlinkSync(`/proc/${h}/ns/mnt`));
    } catch {
      // holder gone
    }
  }
  const pids = new Set<number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (nets.has(readlinkSync(`/proc/${entry}/ns/net`)) || mnts.has(readlinkSync(`/proc/${entry}/ns/mnt`)))
        pids.add(Number(entry));
    } catch {
      // ended while we looked
    }
  }
  for (const dir of await cgroupDirs()) {
    for (const d of await treeDeepestFirst(dir)) {
      try {
        for (const p of readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean))
          pids.add(Number(p));
      } catch {
        // gone
      }
    }
  }
  return [...pids];
}

/** What is left of a cluster on this machine (empty when nothing). */
export async function clusterLeftovers(holders: number[] = []): Promise<string[]> {
  const procs = await clusterProcesses(holders);
  return [
    ...(await topologyLeftovers()),
    ...(await cgroupDirs()).map((d) => `cgroup ${d}`),
    ...(procs.length > 0
      ? [`${procs.length} processes (${procs.slice(0, 5).join(', ')}${procs.length > 5 ? ', ...' : ''})`]
      : []),
  ];
}

/** Kills every cluster process, removes namespaces, links, cgroups and `mountPoints`. */
export async function sweepCluster(holders: number[] = [], mountPoints: string[] = []): Promise<void> {
  for (let round = 0; round < 50; round++) {
    const pids = await clusterProcesses(holders);
    if (pids.length === 0) break;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    await sleep(100);
  }
  await removeTopology();
  for (const dir of await cgroupDirs()) {
    for (let round = 0; round < 20; round++) {
      for (const d of await treeDeepestFirst(dir)) await rmdir(d).catch(() => undefined);
      if ((await cgroupDirs()).every((d) => d !== dir)) break;
      await sleep(100); // a killed process leaves its cgroup a moment later
    }
  }
  for (const p of mountPoints) await rmdir(p).catch(() => undefined);
}
