/**
 * Test 6: a pod whose NetworkAttachmentDefinition does not exist yet. Its sandbox fails with
 * multinet's NETWORK_NOT_FOUND (the kubelet's FailedCreatePodSandBox event carries the text),
 * multinet records a Warning `AddNetworkFailed` on the pod (docs/troubleshooting.md), and once
 * the NAD is created the kubelet's retry brings the pod up with the network.
 *
 * The pod also carries the readiness gate of docs/readiness.md (`NetworksReady`): while its ADD
 * fails multinet writes the condition False (NetworkMissing, naming the network); once attached,
 * True, and the real kubelet, which evaluates readiness gates, reports the pod Ready only then.
 */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import type { Cluster } from '../support/cluster.ts';
import { TOOLBOX_IMAGE } from '../support/cluster-images.ts';
import {
  ipv4Of,
  lanMacvlanNad,
  nodeLeftovers,
  podEvents,
  podLinks,
  waitGone,
  waitRunning,
  waitUntil,
} from './cluster-checks.ts';

const NAD = lanMacvlanNad('late-net', '192.168.1.240', '192.168.1.249');

async function conditions(
  cluster: Cluster,
  pod: string,
): Promise<{ type: string; status: string; reason?: string; message?: string }[]> {
  const out = await cluster.kubectl([
    'get',
    'pod',
    pod,
    '-n',
    'default',
    '-o',
    'jsonpath={.status.conditions}',
  ]);
  return out.trim() === '' ? [] : (JSON.parse(out) as { type: string; status: string }[]);
}

export async function runLateNadScenario(t: TestContext, cluster: Cluster): Promise<void> {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'late',
      namespace: 'default',
      annotations: { 'k8s.v1.cni.cncf.io/networks': 'late-net' },
    },
    spec: {
      terminationGracePeriodSeconds: 1,
      readinessGates: [{ conditionType: 'NetworksReady' }],
      containers: [{ name: 'toolbox', image: TOOLBOX_IMAGE }],
    },
  };
  t.after(async () => {
    // A failed assertion below must not leave the pod retrying into later scenarios.
    await cluster.kubectl(['delete', 'pod', 'late', '--ignore-not-found', '--wait=false']);
    await cluster.kubectl(['delete', 'network-attachment-definitions', 'late-net', '--ignore-not-found']);
  });
  await cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify(pod) });
  const failed = await waitUntil(
    "the kubelet's FailedCreatePodSandBox with NETWORK_NOT_FOUND",
    async () => (await podEvents(cluster, 'late')).find((e) => e.reason === 'FailedCreatePodSandBox'),
    90_000,
  );
  t.diagnostic(`kubelet: ${failed.message}`);
  assert.match(failed.message, /NETWORK_NOT_FOUND/);
  assert.match(failed.message, /late-net/);
  const warning = await waitUntil(
    "multinet's AddNetworkFailed event",
    async () => (await podEvents(cluster, 'late')).find((e) => e.reason === 'AddNetworkFailed'),
    30_000,
  );
  t.diagnostic(`multinet: ${warning.message}`);
  assert.equal(warning.type, 'Warning');
  assert.match(warning.message, /late-net/);

  const missing = await waitUntil(
    'NetworksReady=False on the pod',
    async () => (await conditions(cluster, 'late')).find((c) => c.type === 'NetworksReady'),
    30_000,
  );
  assert.equal(missing.status, 'False');
  assert.equal(missing.reason, 'NetworkMissing');
  assert.match(missing.message ?? '', /late-net/);

  await cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify(NAD) });
  // The kubelet retries with back-off (10-15 s seen): no nudge from the test.
  const running = await waitRunning(cluster, 'late', 'default', 120_000);
  const net1 = ipv4Of(await podLinks(cluster, 'late'), 'net1');
  assert.match(net1 ?? '', /^192\.168\.1\.24\d$/, 'net1 from the late NAD');
  // The readiness gate, as the kubelet evaluates it: Ready once NetworksReady is True.
  const ready = await waitUntil(
    'the pod Ready through its NetworksReady gate',
    async () => {
      const c = await conditions(cluster, 'late');
      const gate = c.find((x) => x.type === 'NetworksReady');
      return c.find((x) => x.type === 'Ready')?.status === 'True' ? { c, gate } : undefined;
    },
    60_000,
  );
  assert.equal(ready.gate?.status, 'True', 'Ready only with NetworksReady True');
  t.diagnostic(`conditions: ${ready.c.map((x) => `${x.type}=${x.status}`).join(' ')}`);
  await cluster.kubectl(['delete', 'pod', 'late', '--wait=false']);
  await waitGone(cluster, 'late');
  assert.deepEqual(
    await nodeLeftovers(cluster.node(running.spec.nodeName!)),
    [],
    'no failed attempt left anything',
  );
}
