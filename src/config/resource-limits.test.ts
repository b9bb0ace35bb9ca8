import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDaemonConfig } from './daemon-config.ts';
import { parseMultinetConfig } from './multinet-config.ts';

const daemon = (extra: Record<string, unknown>) =>
  parseDaemonConfig(JSON.stringify({ clusterNetwork: 'cluster-net', ...extra }));

describe('resource limits (issue 10 #2, #3, #9)', () => {
  it('defaults: 64 KiB configs, all but a quarter of the slots and half the queue per namespace, 32 metrics connections', () => {
    const c = daemon({});
    assert.equal(c.engine.maxNetworkConfigBytes, 65536);
    assert.equal(c.maxConcurrentRequestsPerNamespace, 24);
    assert.equal(c.maxQueuedRequestsPerNamespace, 128);
    assert.equal(c.metricsMaxConnections, 32);
    const small = daemon({ maxConcurrentRequests: 1, maxQueuedRequests: 3 });
    assert.equal(small.maxConcurrentRequestsPerNamespace, 1);
    assert.equal(small.maxQueuedRequestsPerNamespace, 1);
  });

  it('takes valid values and refuses others naming the key', () => {
    const c = daemon({
      maxConcurrentRequestsPerNamespace: 3,
      maxQueuedRequestsPerNamespace: 5,
      metricsMaxConnections: 8,
    });
    assert.deepEqual(
      [c.maxConcurrentRequestsPerNamespace, c.maxQueuedRequestsPerNamespace, c.metricsMaxConnections],
      [3, 5, 8],
    );
    assert.throws(
      () => daemon({ maxConcurrentRequestsPerNamespace: 33 }),
      /maxConcurrentRequestsPerNamespace/,
    );
    assert.throws(() => daemon({ maxQueuedRequestsPerNamespace: -1 }), /maxQueuedRequestsPerNamespace/);
    assert.throws(() => daemon({ metricsMaxConnections: 0 }), /metricsMaxConnections/);
    const base = { clusterNetwork: 'x' };
    assert.equal(
      parseMultinetConfig({ ...base, maxNetworkConfigBytes: 1024 }).engine.maxNetworkConfigBytes,
      1024,
    );
    for (const bad of [1023, 2 * 1024 * 1024, 1.5, '64k'])
      assert.throws(
        () => parseMultinetConfig({ ...base, maxNetworkConfigBytes: bad }),
        /maxNetworkConfigBytes/,
      );
  });
});
