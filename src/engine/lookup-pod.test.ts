import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseMultinetConfig } from '../config/multinet-config.ts';
import { FakeClusterView } from '../../test/support/memory-cluster-view.ts';
import type { EngineDeps } from './engine-deps.ts';
import { EngineError } from './engine-error.ts';
import { silentLogger } from './logger.ts';
import { lookupPod } from './lookup-pod.ts';

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
    config: parseMultinetConfig({ clusterNetwork: 'x', podLookupTimeoutSeconds: 0.3 }),
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
