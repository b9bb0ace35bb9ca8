/**
 * What the node's CNI config is during a round: the default network's conflist alone (no
 * meta-plugin), multinet thick as a user installs it (deploy/ through kubectl, the DaemonSet
 * writes 00-multinet.conflist), or Multus thick as a node process (multus-node.ts, it writes
 * 00-multus.conf). Switching first removes both: the DaemonSet and its conflist (the daemon
 * leaves it on purpose, docs/daemon.md), Multus's daemon and its conf, so containerd's
 * `max_conf_num = 1` picks 10-cluster.conflist again before the next one is put in place.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster } from '../../test/support/cluster.ts';
import type { ClusterNode } from '../../test/support/cluster-node.ts';
import { installThick, MULTINET_NAMESPACE, MULTINET_SELECTOR } from '../../test/support/cluster-multinet.ts';
import { waitUntil } from '../../test/cluster/cluster-checks.ts';
import { startMultusThick, stopMultusThick } from './multus-node.ts';

export type NodeCniId = 'none' | 'multinet' | 'multus';

export interface NodeCni {
  id: NodeCniId;
  label: string;
  /** Puts this config in place on every node; returns the daemon's pid on `node` (if any). */
  activate(cluster: Cluster, node: ClusterNode): Promise<number | undefined>;
}

/** containerd reloads its CNI config on an fsnotify event; a moment for it to act. */
const RELOAD_MS = 2_000;

async function removeMetaPlugins(cluster: Cluster): Promise<void> {
  await stopMultusThick();
  await cluster.kubectl(['delete', 'daemonset', 'multinet', '-n', MULTINET_NAMESPACE, '--ignore-not-found']);
  // A turn must not start while the last one's daemon still serves: fail rather than measure that.
  await waitUntil(
    "the multinet DaemonSet's pods gone",
    async () =>
      (
        await cluster.kubectl([
          'get',
          'pods',
          '-n',
          MULTINET_NAMESPACE,
          '-l',
          MULTINET_SELECTOR,
          '-o',
          'name',
        ])
      ).trim() === '',
  );
  for (const n of cluster.nodes)
    await rm(join(n.hostPath('/etc/cni/net.d'), '00-multinet.conflist'), { force: true });
}

/** The host pid of the running container `name` on the node (its PID 1: the daemon itself). */
export async function containerPid(node: ClusterNode, name: string): Promise<number> {
  const ids = new Set(
    (await node.ctr('containers', 'ls', '-q', `labels."io.kubernetes.container.name"==${name}`))
      .split('\n')
      .filter(Boolean),
  );
  for (const line of (await node.ctr('tasks', 'ls')).split('\n')) {
    const [id, pid, status] = line.trim().split(/\s+/);
    if (id && ids.has(id) && status === 'RUNNING') return Number(pid);
  }
  throw new Error(`${node.name}: no running container ${name}`);
}

export const NODE_CNIS: Record<NodeCniId, NodeCni> = {
  none: {
    id: 'none',
    label: 'no meta-plugin',
    async activate(cluster) {
      await removeMetaPlugins(cluster);
      await sleep(RELOAD_MS);
      return undefined;
    },
  },
  multus: {
    id: 'multus',
    label: 'Multus thick',
    async activate(cluster, node) {
      await removeMetaPlugins(cluster);
      const pid = await startMultusThick(cluster, node);
      await sleep(RELOAD_MS);
      return pid;
    },
  },
  multinet: {
    id: 'multinet',
    label: 'multinet thick',
    async activate(cluster, node) {
      await stopMultusThick();
      await installThick(cluster);
      await sleep(RELOAD_MS);
      return containerPid(node, 'multinet');
    },
  },
};
