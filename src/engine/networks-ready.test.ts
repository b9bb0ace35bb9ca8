import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emptyConfSource, FakeDelegateLists, MemoryPlanStore } from '../../test/support/fake-engine-deps.ts';
import { FakeClusterView } from '../../test/support/memory-cluster-view.ts';
import { parseMultinetConfig } from '../config/multinet-config.ts';
import type { EngineDeps, PodNetworkRequest } from './engine-deps.ts';
import { runPodNetworkRequest } from './engine.ts';
import { silentLogger } from '../log/logger.ts';
import { attachedCondition, degradedCondition, missingCondition, sameCondition } from './networks-ready.ts';

function setup(annotation: string) {
  const cluster = new FakeClusterView();
  cluster.addPod({
    namespace: 'ns1',
    name: 'pod-a',
    uid: 'uid-1',
    annotations: { 'k8s.v1.cni.cncf.io/networks': annotation },
  });
  cluster.addNad('kube-system', 'cluster-net', { cniVersion: '1.0.0', name: 'cluster-net', type: 'bridge' });
  cluster.addNad('ns1', 'net-a', { cniVersion: '1.0.0', name: 'net-a', type: 'macvlan' });
  const lists = new FakeDelegateLists();
  const deps: EngineDeps = {
    config: parseMultinetConfig({ clusterNetwork: 'cluster-net', podLookupTimeoutSeconds: 0.2 }).engine,
    cluster,
    confs: emptyConfSource(),
    lists,
    plans: new MemoryPlanStore(),
    routes: { setDefaultRoute: async () => undefined },
    log: silentLogger,
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    now: () => Date.now(),
  };
  return { cluster, lists, deps };
}

const add: PodNetworkRequest = {
  command: 'ADD',
  containerId: 'c1',
  netns: '/run/netns/p1',
  ifName: 'eth0',
  cniArgs: [
    ['K8S_POD_NAMESPACE', 'ns1'],
    ['K8S_POD_NAME', 'pod-a'],
    ['K8S_POD_UID', 'uid-1'],
  ],
  cniPath: [],
  cniVersion: '1.0.0',
  runtimeConfig: {},
};

describe('NetworksReady', () => {
  it('ADD writes True in the same write as network-status, naming every attachment', async () => {
    const { deps, cluster } = setup('net-a');
    await runPodNetworkRequest(deps, add);
    assert.equal(cluster.statusWrites.length, 1);
    assert.equal(cluster.readyWrites.length, 0, 'no second write for the condition');
    const ready = cluster.statusWrites[0]!.ready!;
    assert.equal(ready.status, 'True');
    assert.equal(ready.reason, 'NetworksAttached');
    assert.equal(ready.message, '2 networks are attached: kube-system/cluster-net (eth0), ns1/net-a (net1)');
    assert.match(ready.lastTransitionTime ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('a failed ADD writes False (NetworkMissing) naming the network, with the UID', async () => {
    const { deps, cluster, lists } = setup('net-a');
    lists.failAdd.add('net-a');
    await assert.rejects(runPodNetworkRequest(deps, add));
    assert.equal(cluster.statusWrites.length, 0);
    assert.equal(cluster.readyWrites.length, 1);
    const { pod, ready } = cluster.readyWrites[0]!;
    assert.deepEqual(pod, { namespace: 'ns1', name: 'pod-a', uid: 'uid-1' });
    assert.equal(ready.status, 'False');
    assert.equal(ready.reason, 'NetworkMissing');
    assert.match(
      ready.message,
      /^network ns1\/net-a is not attached: DELEGATE_FAILED: attaching net1 failed: net-a refused/,
    );
  });

  it('an unknown network is named too; an API outage writes nothing', async () => {
    const { deps, cluster } = setup('nope');
    await assert.rejects(runPodNetworkRequest(deps, add));
    assert.match(
      cluster.readyWrites[0]?.ready.message ?? '',
      /^network ns1\/nope is not attached: NETWORK_NOT_FOUND/,
    );

    const down = setup('net-a');
    down.cluster.down = true;
    await assert.rejects(runPodNetworkRequest(down.deps, add));
    assert.equal(down.cluster.readyWrites.length, 0);
  });

  it('messages are bounded and deterministic, so equal states compare equal', () => {
    const many = Array.from({ length: 200 }, (_, i) => ({
      network: `ns/net-${i}`,
      ifName: `net${i}`,
      error: 'x'.repeat(50),
    }));
    assert.ok(degradedCondition(many).message.length <= 1024);
    assert.ok(missingCondition('ns/n', 'y'.repeat(5000)).message.length <= 1024);
    const a = attachedCondition([{ network: 'podnet', ifName: 'eth0' }]);
    assert.equal(a.message, '1 network is attached: podnet (eth0)');
    assert.ok(sameCondition({ ...a, lastTransitionTime: '2020-01-01T00:00:00Z' }, a));
    assert.ok(!sameCondition(undefined, a));
    assert.ok(!sameCondition(degradedCondition([{ network: 'n', ifName: 'net1', error: 'e' }]), a));
  });
});
