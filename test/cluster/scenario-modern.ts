/**
 * Test 2: the v1 form across nodes. Two NetworkAttachmentDefinitions on the same LAN (macvlan
 * over each node's "eth0"; host-local keeps its store per node, so each NAD gets its own range
 * and no two nodes can hand out one address). A pod on node1 selects its network with the text
 * form, a pod on node2 with the JSON form (its own interface name); they ping each other over
 * the secondary network and over eth0 (the cluster network, routed node to node).
 */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { parseNetworkStatus } from '../../src/spec/network-status.ts';
import { NETWORK_STATUS_ANNOTATION } from '../../src/spec/well-known.ts';
import type { Cluster } from '../support/cluster.ts';
import { TOOLBOX_IMAGE } from '../support/cluster-images.ts';
import {
  lanMacvlanNad,
  getPod,
  ipv4Of,
  nodeLeftovers,
  podLinks,
  sandboxIds,
  waitGone,
  waitRunning,
} from './cluster-checks.ts';
import type { DeletedSandbox } from './scenario-2018.ts';

const nad = (name: string, first: number, last: number): object =>
  lanMacvlanNad(name, `192.168.1.${first}`, `192.168.1.${last}`);

function pod(name: string, node: string, networks: string): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', annotations: { 'k8s.v1.cni.cncf.io/networks': networks } },
    spec: {
      nodeSelector: { 'kubernetes.io/hostname': node },
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'toolbox', image: TOOLBOX_IMAGE }],
    },
  };
}

async function ping(cluster: Cluster, from: string, to: string): Promise<void> {
  await cluster.kubectl(['exec', from, '--', 'ping', '-c', '2', '-W', '3', to]);
}

export async function runModernScenario(t: TestContext, cluster: Cluster): Promise<DeletedSandbox[]> {
  assert.ok(cluster.nodes.length >= 2, 'needs two nodes');
  const [n1, n2] = [cluster.nodes[0]!.name, cluster.nodes[1]!.name];
  const objects = [
    nad('lan-a', 220, 229),
    nad('lan-b', 230, 239),
    pod('pod-a', n1, 'lan-a'),
    pod('pod-b', n2, JSON.stringify([{ name: 'lan-b', namespace: 'default', interface: 'lan0' }])),
  ];
  await cluster.kubectl(['apply', '-f', '-'], { input: objects.map((o) => JSON.stringify(o)).join('\n') });
  const [a, b] = await Promise.all([waitRunning(cluster, 'pod-a'), waitRunning(cluster, 'pod-b')]);
  assert.equal(a.spec.nodeName, n1);
  assert.equal(b.spec.nodeName, n2);
  const [linksA, linksB] = await Promise.all([podLinks(cluster, 'pod-a'), podLinks(cluster, 'pod-b')]);
  const lanA = ipv4Of(linksA, 'net1');
  const lanB = ipv4Of(linksB, 'lan0');
  assert.ok(lanA && lanB, `secondary addresses: pod-a net1 ${lanA}, pod-b lan0 ${lanB}`);
  for (const [name, ifname, ip] of [
    ['pod-a', 'net1', lanA],
    ['pod-b', 'lan0', lanB],
  ] as const) {
    const status = parseNetworkStatus(
      (await getPod(cluster, name)).metadata.annotations?.[NETWORK_STATUS_ANNOTATION] ?? '[]',
    );
    assert.deepEqual(
      status.map((s) => s.interface),
      ['eth0', ifname],
      `${name}'s network-status`,
    );
    assert.equal(status[1]!.ips?.[0], ip);
  }
  t.diagnostic(`pod-a ${a.status.podIP} / ${lanA} on ${n1}; pod-b ${b.status.podIP} / ${lanB} on ${n2}`);
  await ping(cluster, 'pod-a', lanB);
  await ping(cluster, 'pod-b', lanA);
  await ping(cluster, 'pod-a', b.status.podIP!);
  await ping(cluster, 'pod-b', a.status.podIP!);

  const deleted: DeletedSandbox[] = [];
  for (const p of [a, b]) {
    const [sandboxId] = await sandboxIds(cluster.node(p.spec.nodeName!), p.metadata.uid);
    assert.ok(sandboxId);
    deleted.push({ node: p.spec.nodeName!, sandboxId, pod: p.metadata.name, deletedAt: 0 });
  }
  await cluster.kubectl(['delete', 'pod', 'pod-a', 'pod-b', '--wait=false']);
  await Promise.all([waitGone(cluster, 'pod-a'), waitGone(cluster, 'pod-b')]);
  for (const d of deleted) {
    d.deletedAt = Date.now();
    assert.deepEqual(await nodeLeftovers(cluster.node(d.node), d.sandboxId), [], `nothing left of ${d.pod}`);
  }
  await cluster.kubectl(['delete', 'network-attachment-definitions', 'lan-a', 'lan-b']);
  return deleted;
}
