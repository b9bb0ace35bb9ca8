/**
 * Test 5, the reboot lane: with pods running on a node, everything on that node stops at once
 * (kubelet, containerd, the containers, multinet's daemon: every process of the node's mount
 * namespace is killed), what a reboot clears goes (/run: containerd's state, the pod netns files,
 * multinet's socket; in the node's mount namespace only), then containerd and the kubelet start
 * again. The disk survives: host-local's store, multinet's plan cache, libcni's cache. Every pod
 * must get all its networks back in a new sandbox, the store must hold no reservation of a
 * sandbox that is gone, and no plan of a gone sandbox may be left to be reused.
 */
import assert from 'node:assert/strict';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { TestContext } from 'node:test';
import type { Cluster } from '../support/cluster.ts';
import { cgroupHierarchies, type ClusterNode } from '../support/cluster-node.ts';
import { TOOLBOX_IMAGE } from '../support/cluster-images.ts';
import {
  lanMacvlanNad,
  ipv4Of,
  nodeLeftovers,
  podLinks,
  sandboxIds,
  waitGone,
  waitRunning,
  waitUntil,
} from './cluster-checks.ts';

const PODS = ['reboot-a', 'reboot-b'];

const NAD = lanMacvlanNad('reboot-lan', '192.168.1.150', '192.168.1.159');

const pod = (name: string, node: string): object => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default', annotations: { 'k8s.v1.cni.cncf.io/networks': 'reboot-lan' } },
  spec: {
    nodeSelector: { 'kubernetes.io/hostname': node },
    terminationGracePeriodSeconds: 1,
    containers: [{ name: 'toolbox', image: TOOLBOX_IMAGE }],
  },
});

/** Process IDs in the node's cgroup root (`mnc-<node>`, every container of the node), recursively. */
async function cgroupPids(node: ClusterNode): Promise<number[]> {
  const pids: number[] = [];
  for (const h of await cgroupHierarchies()) {
    const root = join(h, `mnc-${node.name}`);
    const dirs = [
      root,
      ...(await readdir(root, { recursive: true }).catch(() => [] as string[])).map((d) => join(root, d)),
    ];
    for (const d of dirs.filter((x) => x === root || !basename(x).includes('.'))) {
      const text = await readFile(join(d, 'cgroup.procs'), 'utf8').catch(() => '');
      for (const l of text.split('\n')) if (l.trim()) pids.push(Number(l));
    }
  }
  return [...new Set(pids)];
}

/**
 * What a power cut ends: every process in the node's mount namespace but its holder (kubelet,
 * containerd, its shims) and every process in the node's cgroup root (the containers, which have
 * mount namespaces of their own, multinet's daemon among them).
 */
async function killNode(node: ClusterNode): Promise<number> {
  const holder = node.state.holder;
  const ns = await readlink(`/proc/${holder}/ns/mnt`);
  let killed = 0;
  for (let round = 0; round < 20; round++) {
    const victims = (await cgroupPids(node)).filter((p) => p !== holder && p !== process.pid);
    for (const entry of await readdir('/proc')) {
      const pid = Number(entry);
      if (!Number.isInteger(pid) || pid === holder || pid === process.pid) continue;
      const mnt = await readlink(`/proc/${pid}/ns/mnt`).catch(() => '');
      if (mnt === ns) victims.push(pid);
    }
    if (victims.length === 0) return killed;
    for (const pid of victims) {
      try {
        process.kill(pid, 'SIGKILL');
        killed++;
      } catch {
        // already gone
      }
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${node.name}: processes survive SIGKILL`);
}

/** host-local reservations on the node: `network/ip` → the container ID in the file. */
async function reservations(node: ClusterNode): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const root = node.hostPath('/var/lib/cni/networks');
  for (const net of await readdir(root).catch(() => [] as string[]))
    for (const f of await readdir(join(root, net)).catch(() => [] as string[])) {
      if (f === 'lock' || f.startsWith('last_reserved_ip')) continue;
      const id = (await readFile(join(root, net, f), 'utf8')).split(/\r?\n/)[0]!.trim();
      out.set(`${net}/${f}`, id);
    }
  return out;
}

async function podUid(cluster: Cluster, name: string): Promise<string> {
  return cluster.kubectl(['get', 'pod', name, '-o', 'jsonpath={.metadata.uid}']);
}

export async function runRebootScenario(t: TestContext, cluster: Cluster): Promise<void> {
  const node = cluster.nodes[0]!;
  await cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify(NAD) });
  for (const name of PODS)
    await cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify(pod(name, node.name)) });
  const before = new Map<string, string[]>();
  for (const name of PODS) {
    const running = await waitRunning(cluster, name);
    before.set(name, await sandboxIds(node, running.metadata.uid));
  }
  const oldSandboxes = [...before.values()].flat();

  const killed = await killNode(node);
  // What a reboot clears (tmpfs /run), in the node's mount namespace only: mounts first (netns
  // files, container rootfs and shm under /run/containerd), deepest first, then the files.
  await node.exec([
    'sh',
    '-c',
    'awk \'$2 ~ "^/run/(netns|containerd|multinet)/" {print $2}\' /proc/self/mounts | sort -r | ' +
      'while read -r m; do umount -l "$m"; done; ' +
      'rm -rf /run/netns/* /run/containerd/* /run/multinet/*',
  ]);
  t.diagnostic(`${node.name}: ${killed} processes killed, /run cleared; starting containerd and the kubelet`);
  await cluster.restart(node.name, 'containerd');
  await cluster.restart(node.name, 'kubelet');

  const after = new Map<string, string[]>();
  for (const name of PODS) {
    const uid = await podUid(cluster, name);
    // Running again in a new sandbox (the kubelet re-creates it; multinet's daemon, also a pod
    // of this node, comes back meanwhile: until then the shim answers 11 and the kubelet retries).
    const ids = await waitUntil(
      `${name}: a new sandbox, Running`,
      async () => {
        const p = await waitRunning(cluster, name, 'default', 5_000).catch(() => undefined);
        if (!p) return undefined;
        const ids = await sandboxIds(node, uid);
        const fresh = ids.filter((id) => !oldSandboxes.includes(id));
        return fresh.length > 0 ? fresh : undefined;
      },
      240_000,
    );
    after.set(name, ids);
    // The API may still show the status from before the power cut: ask the new container itself.
    let seen = '';
    await waitUntil(
      `${name}: eth0 and net1 with addresses after the reboot (last seen: ${seen})`,
      async () => {
        const links = await podLinks(cluster, name);
        seen = links.map((l) => l.ifname).join(',');
        return ipv4Of(links, 'eth0') !== undefined && ipv4Of(links, 'net1') !== undefined;
      },
      120_000,
    );
  }
  const current = new Set([...after.values()].flat());

  // The kubelet stops the old sandboxes (CNI DEL from multinet's plan); until then their
  // reservations are legitimately there. Then: only current sandboxes hold addresses or plans.
  const plansDir = node.hostPath('/var/lib/cni/multinet/plans');
  await waitUntil(
    'no reservation or plan of a gone sandbox',
    async () => {
      const stale = [...(await reservations(node))].filter(([, id]) => !current.has(id));
      const plans = (await readdir(plansDir).catch(() => [] as string[])).filter(
        (f) => !f.startsWith('.') && !current.has(f),
      );
      if (stale.length === 0 && plans.length === 0) return true;
      t.diagnostic(`waiting: stale reservations ${JSON.stringify(stale)}, plans ${JSON.stringify(plans)}`);
      return undefined;
    },
    180_000,
  );
  const held = [...(await reservations(node)).values()];
  for (const id of current) assert.ok(held.includes(id), `sandbox ${id} holds its addresses`);

  for (const name of PODS) await cluster.kubectl(['delete', 'pod', name, '--wait=false']);
  for (const name of PODS) await waitGone(cluster, name);
  for (const id of [...oldSandboxes, ...current])
    await waitUntil(
      `no leftovers of ${id}`,
      async () => (await nodeLeftovers(node, id)).length === 0,
      90_000,
    );
}
