import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emptyConfSource, FakeDelegateLists, MemoryPlanStore } from '../../test/support/fake-engine-deps.ts';
import { FakeClusterView } from '../../test/support/memory-cluster-view.ts';
import { parseMultinetConfig } from '../config/multinet-config.ts';
import { OMITTED_CONFIG_BYTES } from '../spec/network-definition.ts';
import type { EngineDeps, PodNetworkRequest } from './engine-deps.ts';
import { runPodNetworkRequest } from './engine.ts';
import { silentLogger } from '../log/logger.ts';
import { toCniError } from './to-cni-error.ts';

function setup(maxNetworkConfigBytes?: number) {
  const cluster = new FakeClusterView();
  cluster.addPod({
    namespace: 'tenant',
    name: 'pod-a',
    uid: 'uid-1',
    annotations: { 'k8s.v1.cni.cncf.io/networks': 'big' },
  });
  cluster.addNad('kube-system', 'cluster-net', { cniVersion: '1.0.0', name: 'cluster-net', type: 'bridge' });
  const lists = new FakeDelegateLists();
  const deps: EngineDeps = {
    config: parseMultinetConfig({
      clusterNetwork: 'cluster-net',
      cacheDir: '/nonexistent',
      ...(maxNetworkConfigBytes ? { maxNetworkConfigBytes } : {}),
    }).engine,
    cluster,
    confs: emptyConfSource(),
    lists,
    plans: new MemoryPlanStore(),
    routes: { setDefaultRoute: async () => {} },
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
    ['K8S_POD_NAMESPACE', 'tenant'],
    ['K8S_POD_NAME', 'pod-a'],
    ['K8S_POD_UID', 'uid-1'],
  ],
  cniPath: ['/usr/lib/cni'],
  cniVersion: '1.0.0',
  runtimeConfig: {},
};

const refusedBySize = (err: unknown) => {
  const cni = toCniError(err);
  assert.equal(cni.code, 7);
  assert.match(cni.msg + cni.details, /tenant\/pod-a/);
  assert.match(cni.msg + cni.details, /tenant\/big/);
  assert.match(cni.msg + cni.details, /maxNetworkConfigBytes/);
  return true;
};

describe('maxNetworkConfigBytes', () => {
  it('refuses a NAD config over the limit at ADD, naming pod and NAD, before any delegate runs', async () => {
    const { cluster, lists, deps } = setup();
    cluster.addNad('tenant', 'big', { cniVersion: '1.0.0', type: 'bridge', pad: 'x'.repeat(64 * 1024) });
    await assert.rejects(runPodNetworkRequest(deps, add), refusedBySize);
    assert.deepEqual(lists.lines(), []);
  });

  it('refuses a definition whose config a cache dropped, even if the limit changed since', async () => {
    const { cluster, lists, deps } = setup(1536 * 1024);
    cluster.nads.set('tenant/big', {
      apiVersion: 'k8s.cni.cncf.io/v1',
      kind: 'NetworkAttachmentDefinition',
      metadata: { namespace: 'tenant', name: 'big' },
      spec: {},
      [OMITTED_CONFIG_BYTES]: 900_000,
    });
    await assert.rejects(runPodNetworkRequest(deps, add), refusedBySize);
    assert.deepEqual(lists.lines(), []);
  });

  it('a config within a raised limit is used', async () => {
    const { cluster, lists, deps } = setup(256 * 1024);
    cluster.addNad('tenant', 'big', { cniVersion: '1.0.0', type: 'bridge', pad: 'x'.repeat(100 * 1024) });
    await runPodNetworkRequest(deps, add);
    assert.equal(lists.lines().length, 2);
  });
});
