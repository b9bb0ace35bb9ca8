/**
 * What the cluster tests look at: pods through kubectl, a node's private directories (pod netns
 * files, host-local reservations, libcni's and multinet's caches) and its links, sandboxes through
 * the node's containerd, and multinet's per-request log lines (`CNI request done`).
 */
import { copyFile, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster } from '../support/cluster.ts';
import type { ClusterNode } from '../support/cluster-node.ts';
import { MULTINET_NAMESPACE, multinetPodOn } from '../support/cluster-multinet.ts';
import type { IpLink } from '../support/netns.ts';
import { REPO_ROOT } from '../support/control-plane.ts';

export async function waitUntil<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? ` (last: ${last})` : ''}`);
    await sleep(250);
  }
}

export interface PodView {
  metadata: { name: string; uid: string; annotations?: Record<string, string> };
  spec: { nodeName?: string };
  status: { phase?: string; podIP?: string };
}

export async function getPod(cluster: Cluster, name: string, ns = 'default'): Promise<PodView> {
  return JSON.parse(await cluster.kubectl(['get', 'pod', name, '-n', ns, '-o', 'json'])) as PodView;
}

export function waitRunning(
  cluster: Cluster,
  name: string,
  ns = 'default',
  timeoutMs = 90_000,
): Promise<PodView> {
  return waitUntil(
    `pod ${ns}/${name} Running`,
    async () => {
      const pod = await getPod(cluster, name, ns);
      return pod.status.phase === 'Running' ? pod : undefined;
    },
    timeoutMs,
  );
}

export async function waitGone(cluster: Cluster, name: string, ns = 'default'): Promise<void> {
  await waitUntil(`pod ${ns}/${name} gone`, async () => {
    const out = await cluster.kubectl(['get', 'pod', name, '-n', ns, '--ignore-not-found', '-o', 'name']);
    return out.trim() === '';
  });
}

/** `kubectl exec POD -- ip -j addr` parsed. */
export async function podLinks(cluster: Cluster, name: string, ns = 'default'): Promise<IpLink[]> {
  // busybox ip has no -j: parse `ip -o addr` lines ("2: eth0    inet 10.244.1.5/24 ...").
  const out = await cluster.kubectl(['exec', '-n', ns, name, '--', 'ip', '-o', 'addr']);
  const links = new Map<string, IpLink>();
  for (const line of out.split('\n')) {
    const m = /^\d+:\s+(\S+?)(?:@\S+)?\s+(inet6?)\s+(\S+)\//.exec(line);
    if (!m) continue;
    const [, ifname, family, local] = m as unknown as [string, string, 'inet' | 'inet6', string];
    const prefixlen = Number(/\/(\d+)/.exec(line)?.[1]);
    const link = links.get(ifname) ?? { ifname, addr_info: [] };
    link.addr_info!.push({ family, local, prefixlen });
    links.set(ifname, link);
  }
  return [...links.values()];
}

export function ipv4Of(links: IpLink[], ifname: string): string | undefined {
  return links.find((l) => l.ifname === ifname)?.addr_info?.find((a) => a.family === 'inet')?.local;
}

/** The pod's sandbox IDs on its node's containerd (through the CRI labels containerd sets). */
export async function sandboxIds(node: ClusterNode, podUid: string): Promise<string[]> {
  const out = await node.ctr(
    'containers',
    'ls',
    '-q',
    `labels."io.kubernetes.pod.uid"==${podUid},labels."io.cri-containerd.kind"==sandbox`,
  );
  return out.split('\n').filter(Boolean);
}

async function filesUnder(dir: string): Promise<string[]> {
  return readdir(dir, { recursive: true }).catch(() => [] as string[]);
}

/**
 * What a node still holds for a sandbox, or for anything at all when `sandboxId` is omitted: pod
 * netns files, host-local reservations, cache files (libcni's and multinet's) naming the sandbox,
 * veth links on the node other than its own.
 */
export async function nodeLeftovers(node: ClusterNode, sandboxId?: string): Promise<string[]> {
  const left: string[] = [];
  for (const f of await filesUnder(node.hostPath('/run/netns'))) left.push(`netns file ${f}`);
  const networks = node.hostPath('/var/lib/cni/networks');
  for (const f of await filesUnder(networks)) {
    const base = f.split('/').pop()!;
    if (f.includes('/') && base !== 'lock' && !base.startsWith('last_reserved_ip'))
      left.push(`host-local ${f}`);
  }
  for (const f of await filesUnder(node.hostPath('/var/lib/cni'))) {
    if (f.startsWith('networks')) continue;
    if (sandboxId ? f.includes(sandboxId) : /(^|\/)(results|plans?)\/./.test(f)) left.push(`cache ${f}`);
  }
  const links = JSON.parse(await node.exec(['ip', '-d', '-j', 'link'])) as IpLink[];
  for (const l of links) {
    if (l.linkinfo?.info_kind === 'veth' && !['eth0', 'up0'].includes(l.ifname))
      left.push(`link ${l.ifname}`);
  }
  return left;
}

export interface CniLogLine {
  command: string;
  containerId: string;
  exitCode: number;
  ms: number;
  podName?: string;
}

/** multinet's `CNI request done/failed` lines on a node (the daemon's JSON log). */
export async function cniLog(cluster: Cluster, node: string): Promise<CniLogLine[]> {
  const pod = await multinetPodOn(cluster, node);
  const out = await cluster.kubectl(['logs', '-n', MULTINET_NAMESPACE, pod, '-c', 'multinet']);
  const lines: CniLogLine[] = [];
  for (const l of out.split('\n')) {
    if (!l.startsWith('{')) continue;
    try {
      const j = JSON.parse(l) as Record<string, unknown>;
      if (typeof j['command'] === 'string' && typeof j['exitCode'] === 'number')
        lines.push(j as unknown as CniLogLine);
    } catch {
      // not JSON
    }
  }
  return lines;
}

export const NODE_DIRS = (node: ClusterNode): Record<string, string> => ({
  netns: node.hostPath('/run/netns'),
  cni: node.hostPath('/var/lib/cni'),
  conf: join(node.hostPath('/etc/cni/net.d')),
});

export interface EventView {
  type: string;
  reason: string;
  message: string;
}

/** The Events about pod `name` in `default`. */
export async function podEvents(cluster: Cluster, name: string): Promise<EventView[]> {
  const out = await cluster.kubectl([
    'get',
    'events',
    '-n',
    'default',
    '--field-selector',
    `involvedObject.kind=Pod,involvedObject.name=${name}`,
    '-o',
    'json',
  ]);
  return (JSON.parse(out) as { items: EventView[] }).items;
}

/**
 * A NAD `default/<name>`: macvlan (bridge) on the node's "eth0" (the node namespace's own link,
 * never the machine's) with host-local addresses `rangeStart`-`rangeEnd` of the 2018 LAN,
 * 192.168.1.0/24: each scenario takes its own range, so reservations never collide.
 */
export function lanMacvlanNad(name: string, rangeStart: string, rangeEnd: string): object {
  return {
    apiVersion: 'k8s.cni.cncf.io/v1',
    kind: 'NetworkAttachmentDefinition',
    metadata: { name, namespace: 'default' },
    spec: {
      config: JSON.stringify({
        cniVersion: '1.0.0',
        type: 'macvlan',
        master: 'eth0',
        mode: 'bridge',
        ipam: { type: 'host-local', ranges: [[{ subnet: '192.168.1.0/24', rangeStart, rangeEnd }]] },
      }),
    },
  };
}

/** Veth pairs `<id>`/`<id>p` in the node's network namespace, `<id>` up: the devices of the device tests. */
export async function addVethDevices(node: ClusterNode, ids: readonly string[]): Promise<void> {
  for (const id of ids) {
    await node.exec(['ip', 'link', 'add', id, 'type', 'veth', 'peer', 'name', `${id}p`]);
    await node.exec(['ip', 'link', 'set', id, 'up']);
  }
}

/** The recording wrapper (test/support/recording-plugins) in the node's CNI bin dir, and `recordDir`. */
export async function installRecordingWrapper(node: ClusterNode, recordDir: string): Promise<void> {
  const bin = node.hostPath('/opt/cni/bin');
  for (const f of RECORDING_WRAPPER_FILES)
    await copyFile(join(REPO_ROOT, 'test/support/recording-plugins', f), join(bin, f));
  await mkdir(node.hostPath(recordDir), { recursive: true });
}

export const RECORDING_WRAPPER_FILES = ['recording-wrapper', 'recording-wrapper.mjs'];
