import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseMultinetConfig } from '../config/multinet-config.ts';
import { FakeClusterView } from '../../test/support/memory-cluster-view.ts';
import { emptyConfSource, FakeDelegateLists, MemoryPlanStore } from '../../test/support/fake-engine-deps.ts';
import type { EngineDeps, PodNetworkRequest } from './engine-deps.ts';
import { runPodNetworkRequest } from './engine.ts';
import { EngineError } from './engine-error.ts';
import { silentLogger } from '../log/logger.ts';
import { lookupPod, readPodForDel } from './lookup-pod.ts';

/** A watch cache in front of a dead API server: the live read fails, the cache then says "not there". */
class StaleCacheView extends FakeClusterView {
  reads = 0;
  override async getPod(namespace: string, name: string) {
    if (this.reads++ === 0) throw new Error('connect ECONNREFUSED 127.0.0.1:6443');
    return super.getPod(namespace, name);
  }
}

function deps(cluster: FakeClusterView): EngineDeps {
  return {
    config: parseMultinetConfig({ clusterNetwork: 'x', podLookupTimeoutSeconds: 0.3 }).engine,
    cluster,
    log: silentLogger,
    sleep: (ms: number) => new Promise((r) => setTimeout(r, ms)),
    now: () => Date.now(),
  } as unknown as EngineDeps;
}

const id = { namespace: 'ns1', name: 'p', uid: 'u1' };

test('"not found" after a failed read says the API server cannot be read, not that the pod is gone', async () => {
  await assert.rejects(lookupPod(deps(new StaleCacheView()), id, 'ns1/p'), (err: unknown) => {
    assert.ok(err instanceof EngineError);
    assert.equal(err.code, 'CLUSTER_UNAVAILABLE');
    assert.equal(err.cniCode, 11);
    assert.match(err.message, /the API server cannot be read .*ECONNREFUSED/);
    return true;
  });
});

test('a pod that every read says is absent is "not found"', async () => {
  await assert.rejects(lookupPod(deps(new FakeClusterView()), id, 'ns1/p'), /POD_NOT_FOUND|not found/);
});

/** Counts reads and the engine's pauses: a DEL must read and never pause. */
class CountingView extends FakeClusterView {
  reads = 0;
  override async getPod(namespace: string, name: string) {
    this.reads++;
    return super.getPod(namespace, name);
  }
}

test('DEL of a pod the API no longer has reads it once and never waits', async () => {
  const cluster = new CountingView();
  cluster.addNad('kube-system', 'x', { cniVersion: '1.0.0', name: 'x', type: 'bridge' });
  let sleeps = 0;
  const d = {
    ...deps(cluster),
    config: parseMultinetConfig({
      clusterNetwork: 'x',
      podLookupTimeoutSeconds: 60,
      cacheDir: '/nonexistent',
    }).engine,
    confs: emptyConfSource(),
    lists: new FakeDelegateLists(),
    plans: new MemoryPlanStore(),
    sleep: async () => void sleeps++,
  } as EngineDeps;
  await runPodNetworkRequest(d, {
    command: 'DEL',
    containerId: 'gc-1',
    netns: '',
    ifName: 'eth0',
    cniArgs: [
      ['K8S_POD_NAMESPACE', 'ns1'],
      ['K8S_POD_NAME', 'p'],
      ['K8S_POD_UID', 'u1'],
    ],
    cniPath: [],
    runtimeConfig: {},
    cniVersion: '1.0.0',
  } satisfies PodNetworkRequest);
  assert.equal(cluster.reads, 1);
  assert.equal(sleeps, 0);
});

test('DEL: a pod of that name with another UID is read once more, then taken as gone', async () => {
  const cluster = new CountingView();
  cluster.addPod({ namespace: 'ns1', name: 'p', uid: 'u2', annotations: {} });
  assert.equal(await readPodForDel(deps(cluster), id), undefined);
  assert.equal(cluster.reads, 2);
  cluster.addPod({ namespace: 'ns1', name: 'p', uid: 'u1', annotations: {} });
  assert.equal((await readPodForDel(deps(cluster), id))?.uid, 'u1');
});
