import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OMITTED_CONFIG_BYTES, parseNetworkDefinition } from '../spec/network-definition.ts';
import { toCachedNetworkObject, toCachedPod } from './informer-objects.ts';
import { ELIDED_STRING_PREFIX } from './list-item-splitter.ts';

const NAD = ['k8s.cni.cncf.io/v1', 'NetworkAttachmentDefinition'] as const;
const listed = (config: unknown, annotations: Record<string, string> = {}) => ({
  metadata: {
    namespace: 'tenant',
    name: 'n1',
    uid: 'u1',
    resourceVersion: '7',
    annotations: { 'k8s.v1.cni.cncf.io/resourceName': 'intel.com/sriov', ...annotations },
    managedFields: [{ manager: 'kubectl', fieldsV1: { pad: 'x'.repeat(10_000) } }],
  },
  spec: { config, other: 'y'.repeat(10_000) },
});

describe('toCachedNetworkObject', () => {
  it('keeps what resolving reads and nothing else', () => {
    const cfg = '{"cniVersion":"1.0.0","type":"bridge"}';
    const out = toCachedNetworkObject(listed(cfg, { big: 'z'.repeat(200_000) }), ...NAD, 1024);
    assert.deepEqual(out, {
      apiVersion: NAD[0],
      kind: NAD[1],
      metadata: {
        namespace: 'tenant',
        name: 'n1',
        uid: 'u1',
        resourceVersion: '7',
        annotations: { 'k8s.v1.cni.cncf.io/resourceName': 'intel.com/sriov' },
      },
      spec: { config: cfg },
    });
    assert.equal(parseNetworkDefinition(out).config, cfg);
  });

  it('drops a config over the limit (or elided while listing) and records its size', () => {
    for (const [config, bytes] of [
      [`{"type":"bridge","pad":"${'x'.repeat(2000)}"}`, 2026],
      [`${ELIDED_STRING_PREFIX}1048590`, 1048590],
    ] as const) {
      const out = toCachedNetworkObject(listed(config), ...NAD, 1024);
      assert.deepEqual(out['spec'], {});
      assert.equal((out as { [OMITTED_CONFIG_BYTES]?: number })[OMITTED_CONFIG_BYTES], bytes);
      const def = parseNetworkDefinition(out);
      assert.equal(def.config, undefined);
      assert.equal(def.omittedConfigBytes, bytes);
    }
  });

  it('keeps the error of a config that is not a string, not its value', () => {
    const out = toCachedNetworkObject(listed({ type: 'bridge', pad: 'x'.repeat(5000) }), ...NAD, 1024);
    assert.deepEqual(out['spec'], { config: {} });
    assert.throws(() => parseNetworkDefinition(out), /must be a string/);
  });
});

describe('toCachedPod', () => {
  it('keeps the NetworksReady condition (bounded) and drops network-status and other conditions', () => {
    const pod = toCachedPod({
      metadata: {
        namespace: 'ns',
        name: 'p',
        uid: 'u',
        annotations: { 'k8s.v1.cni.cncf.io/network-status': '[]', a: 'b' },
      },
      spec: { nodeName: 'n1' },
      status: {
        conditions: [
          { type: 'Ready', status: 'True' },
          {
            type: 'NetworksReady',
            status: 'False',
            reason: 'NetworkDegraded',
            message: 'm'.repeat(5000),
            lastTransitionTime: '2030-01-01T00:00:00Z',
          },
        ],
      },
    });
    assert.deepEqual(pod.annotations, { a: 'b' });
    assert.equal(pod.networksReady?.status, 'False');
    assert.equal(pod.networksReady?.reason, 'NetworkDegraded');
    assert.equal(pod.networksReady?.message.length, 1024);
    assert.equal(pod.networksReady?.lastTransitionTime, '2030-01-01T00:00:00Z');
    const none = toCachedPod({
      metadata: { namespace: 'ns', name: 'q' },
      status: { conditions: [{ type: 'NetworksReady', status: 'Unknown' }] },
    });
    assert.equal(none.networksReady, undefined);
  });
});
