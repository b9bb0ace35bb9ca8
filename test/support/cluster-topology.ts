/**
 * The network of a test cluster, all in namespaces and links named `mnc-*` (the host's eth0,
 * routes and sysctls are never touched; forwarding is on inside the node namespaces only):
 *
 *   host netns:  mnc-upN 10.250.0.(4N-3)/30  (the API server listens on mnc-up1's 10.250.0.1)
 *      | veth                                                         (one pair per node)
 *   mnc-nodeN:   up0 10.250.0.(4N-2)/30 (the node IP: kubelet, containerd, multinet)
 *                eth0 192.168.1.(10+N)/24 (the 2018 NAD's macvlan master; carries pod traffic
 *                between nodes: route 10.244.M.0/24 via 192.168.1.(10+M) for every other node M)
 *                cni0 10.244.N.1/24, the cluster network's bridge (made by the bridge plugin)
 *      | veth eth0 <-> lanN
 *   mnc-lan:     br0 192.168.1.1/24 with lan1, lan2...: the LAN both nodes' macvlans share
 *                (192.168.1.1 is the macvlan network's gateway: a dead end)
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { PLUGIN_ENV } from './netns.ts';

const run = promisify(execFile);
export const CLUSTER_PREFIX = 'mnc-';
export const LAN_NS = `${CLUSTER_PREFIX}lan`;
export const API_ADDRESS = '10.250.0.1';
export const POD_SUPERNET = '10.244.0.0/16';

export interface NodeNetwork {
  /** 1-based. */
  index: number;
  name: string;
  netns: string;
  netnsPath: string;
  /** The node's InternalIP (up0), where the apiserver reaches its kubelet. */
  nodeIp: string;
  /** eth0's address on the LAN. */
  lanIp: string;
  podCidr: string;
  podGateway: string;
}

export function nodeNetwork(index: number): NodeNetwork {
  const netns = `${CLUSTER_PREFIX}node${index}`;
  return {
    index,
    name: `node${index}`,
    netns,
    netnsPath: `/run/netns/${netns}`,
    nodeIp: `10.250.0.${4 * index - 2}`,
    lanIp: `192.168.1.${10 + index}`,
    podCidr: `10.244.${index}.0/24`,
    podGateway: `10.244.${index}.1`,
  };
}

const hostSide = (index: number): string => `10.250.0.${4 * index - 3}`;

async function ip(...args: string[]): Promise<void> {
  try {
    await run('ip', args);
  } catch (err) {
    throw new Error(`ip ${args.join(' ')}: ${(err as { stderr?: string }).stderr?.trim() ?? err}`);
  }
}

/** Builds the LAN and `count` node namespaces; undo with `removeTopology`. */
export async function createTopology(count: number): Promise<NodeNetwork[]> {
  const nodes = Array.from({ length: count }, (_, i) => nodeNetwork(i + 1));
  await ip('netns', 'add', LAN_NS);
  await ip('-n', LAN_NS, 'link', 'set', 'lo', 'up');
  await ip('-n', LAN_NS, 'link', 'add', 'br0', 'type', 'bridge');
  await ip('-n', LAN_NS, 'addr', 'add', '192.168.1.1/24', 'dev', 'br0');
  await ip('-n', LAN_NS, 'link', 'set', 'br0', 'up');
  for (const n of nodes) {
    const up = `${CLUSTER_PREFIX}up${n.index}`;
    await ip('netns', 'add', n.netns);
    await ip('-n', n.netns, 'link', 'set', 'lo', 'up');
    await ip('link', 'add', up, 'type', 'veth', 'peer', 'name', 'up0', 'netns', n.netns);
    await ip('addr', 'add', `${hostSide(n.index)}/30`, 'dev', up);
    await ip('link', 'set', up, 'up');
    await ip('-n', n.netns, 'addr', 'add', `${n.nodeIp}/30`, 'dev', 'up0');
    await ip('-n', n.netns, 'link', 'set', 'up0', 'up');
    // The API address is on mnc-up1; the host answers for it on every up-link (no forwarding).
    if (n.index > 1) await ip('-n', n.netns, 'route', 'add', `${API_ADDRESS}/32`, 'via', hostSide(n.index));
    await ip(
      '-n',
      n.netns,
      'link',
      'add',
      'eth0',
      'type',
      'veth',
      'peer',
      'name',
      `lan${n.index}`,
      'netns',
      LAN_NS,
    );
    await ip('-n', n.netns, 'addr', 'add', `${n.lanIp}/24`, 'dev', 'eth0');
    await ip('-n', n.netns, 'link', 'set', 'eth0', 'up');
    await ip('-n', LAN_NS, 'link', 'set', `lan${n.index}`, 'master', 'br0');
    await ip('-n', LAN_NS, 'link', 'set', `lan${n.index}`, 'up');
    // Per-namespace sysctl, written from inside the node namespace: the host's stays as it is.
    await run(
      'nsenter',
      [`--net=${n.netnsPath}`, '--', 'sh', '-c', 'echo 1 > /proc/sys/net/ipv4/ip_forward'],
      {
        env: PLUGIN_ENV,
      },
    );
  }
  for (const n of nodes) {
    for (const other of nodes) {
      if (other !== n)
        await ip('-n', n.netns, 'route', 'add', other.podCidr, 'via', other.lanIp, 'dev', 'eth0');
    }
  }
  return nodes;
}

/** Every namespace and host link with the cluster's prefix (what a cluster leaves if killed). */
export async function topologyLeftovers(): Promise<string[]> {
  const netns = await run('ip', ['-j', 'netns', 'list']).then((r) =>
    r.stdout.trim() ? (JSON.parse(r.stdout) as { name: string }[]).map((n) => n.name) : [],
  );
  const links = await run('ip', ['-j', 'link', 'show']).then((r) =>
    (JSON.parse(r.stdout) as { ifname: string }[]).map((l) => l.ifname),
  );
  return [
    ...netns.filter((n) => n.startsWith(CLUSTER_PREFIX)).map((n) => `netns ${n}`),
    ...links.filter((l) => l.startsWith(CLUSTER_PREFIX)).map((l) => `link ${l}`),
  ];
}

/** Removes the namespaces (their links go with them) and the host ends of the up-links. */
export async function removeTopology(): Promise<void> {
  for (const item of await topologyLeftovers()) {
    const [kind, name] = item.split(' ') as [string, string];
    if (kind === 'netns') await run('ip', ['netns', 'del', name]).catch(() => undefined);
  }
  for (const item of await topologyLeftovers()) {
    const [kind, name] = item.split(' ') as [string, string];
    if (kind === 'link') await run('ip', ['link', 'del', name]).catch(() => undefined);
  }
}
