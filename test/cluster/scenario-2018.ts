/**
 * Test 1: the 2018 OpenShift proof of concept verbatim (test/fixtures/manifests/poc-2018): the
 * `Network` object and `bothpod`, the pod's image swapped for the toolbox (dougbtv/nginx-toolbox
 * cannot be pulled here; the toolbox serves 8080 the same way). The macvlan master "eth0" is the
 * node namespace's link on the LAN.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { parseNetworkStatus } from '../../src/spec/network-status.ts';
import { NETWORK_STATUS_ANNOTATION } from '../../src/spec/well-known.ts';
import type { Cluster } from '../support/cluster.ts';
import { TOOLBOX_IMAGE } from '../support/cluster-images.ts';
import { REPO_ROOT } from '../support/control-plane.ts';
import {
  getPod,
  ipv4Of,
  nodeLeftovers,
  podLinks,
  sandboxIds,
  waitGone,
  waitRunning,
} from './cluster-checks.ts';

const POC = join(REPO_ROOT, 'test/fixtures/manifests/poc-2018');

export interface DeletedSandbox {
  node: string;
  sandboxId: string;
  pod: string;
  deletedAt: number;
}

function ipToNumber(ip: string): number {
  return ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

/** Returns the deleted pod's sandbox, for the GC check (test 7). */
export async function run2018Scenario(t: TestContext, cluster: Cluster): Promise<DeletedSandbox> {
  const pod = (await readFile(join(POC, 'bothpod.yaml'), 'utf8')).replace(
    'image: dougbtv/nginx-toolbox',
    `image: ${TOOLBOX_IMAGE}`,
  );
  assert.ok(pod.includes(TOOLBOX_IMAGE), 'the image line of bothpod.yaml changed: update the swap');
  await cluster.kubectl(['apply', '-f', join(POC, 'macvlan-conf.yaml')]);
  await cluster.kubectl(['apply', '-f', '-'], { input: pod });
  const running = await waitRunning(cluster, 'bothpod');
  const nodeName = running.spec.nodeName!;
  const node = cluster.node(nodeName);

  const ipA = await cluster.kubectl(['exec', 'bothpod', '--', 'ip', 'a']);
  t.diagnostic(`kubectl exec bothpod -- ip a (on ${nodeName}):\n${ipA}`);
  assert.match(ipA, /eth0/);
  assert.match(ipA, /net1/);
  const links = await podLinks(cluster, 'bothpod');
  assert.equal(ipv4Of(links, 'eth0'), running.status.podIP, 'eth0 carries the pod IP');
  const net1 = ipv4Of(links, 'net1');
  assert.ok(net1, `net1 has an IPv4 address: ${JSON.stringify(links)}`);
  const n = ipToNumber(net1);
  assert.ok(
    n >= ipToNumber('192.168.1.200') && n <= ipToNumber('192.168.1.216'),
    `net1 ${net1} in 192.168.1.200-216`,
  );

  const annotated = await getPod(cluster, 'bothpod');
  const status = parseNetworkStatus(annotated.metadata.annotations?.[NETWORK_STATUS_ANNOTATION] ?? '[]');
  t.diagnostic(`network-status: ${JSON.stringify(status)}`);
  assert.equal(status.length, 2, 'network-status lists eth0 and net1');
  assert.deepEqual(
    status.map((s) => [s.interface, s.ips?.[0]]),
    [
      ['eth0', running.status.podIP],
      ['net1', net1],
    ],
  );
  assert.ok(status[0]!.default, 'eth0 is the default network');
  assert.match(status[1]!.name, /macvlan-conf$/);

  const [sandboxId] = await sandboxIds(node, annotated.metadata.uid);
  assert.ok(sandboxId, 'containerd lists the pod sandbox');
  // bothpod's command (httpd, PID 1) ignores SIGTERM: without a short grace the delete waits
  // the default 30 s for nothing.
  await cluster.kubectl(['delete', 'pod', 'bothpod', '--grace-period=1', '--wait=false']);
  await waitGone(cluster, 'bothpod');
  const deletedAt = Date.now();
  assert.deepEqual(
    await nodeLeftovers(node, sandboxId),
    [],
    `nothing left on ${nodeName} after the pod's DEL`,
  );
  await cluster.kubectl(['delete', '-f', join(POC, 'macvlan-conf.yaml')]);
  return { node: nodeName, sandboxId, pod: 'bothpod', deletedAt };
}
