import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { claimStatusApply, DraDeviceIndex, toCachedClaim, toCachedSlice } from './dra.ts';

describe('DRA objects as the caches keep them', () => {
  it('a claim keeps its allocation results only (opaque config and the rest dropped)', () => {
    const c = toCachedClaim({
      metadata: { namespace: 'ns1', name: 'c1', uid: 'u1', managedFields: [{}] },
      spec: {
        devices: { requests: [{ name: 'nic' }], config: [{ opaque: { parameters: { secret: 'x' } } }] },
      },
      status: {
        allocation: {
          devices: {
            results: [
              { request: 'nic', driver: 'd.example.com', pool: 'n1', device: 'vf-0', adminAccess: false },
              { request: 'nic', driver: 'd.example.com', pool: 'n1' },
            ],
            config: [{ opaque: { parameters: { secret: 'y' } } }],
          },
        },
      },
    });
    assert.deepEqual(c, {
      namespace: 'ns1',
      name: 'c1',
      uid: 'u1',
      results: [{ request: 'nic', driver: 'd.example.com', pool: 'n1', device: 'vf-0' }],
    });
    assert.equal(
      toCachedClaim({ metadata: { namespace: 'ns1', name: 'c2' }, status: {} }).results,
      undefined,
    );
  });

  it("a slice keeps each device's name and the contract's two string attributes", () => {
    const s = toCachedSlice({
      metadata: { name: 'n1-d' },
      spec: {
        driver: 'd.example.com',
        nodeName: 'n1',
        pool: { name: 'n1', generation: 1, resourceSliceCount: 1 },
        devices: [
          {
            name: 'vf-0',
            attributes: {
              'k8s.cni.cncf.io/resourceName': { string: 'vendor.example/nic' },
              'k8s.cni.cncf.io/deviceID': { string: '0000:18:02.0' },
              model: { string: 'x' },
            },
            capacity: { mem: { value: '1Gi' } },
          },
          { name: 'vf-1', attributes: { 'k8s.cni.cncf.io/deviceID': { int: 5 } } },
          { attributes: {} },
        ],
      },
    });
    assert.deepEqual(s, {
      name: 'n1-d',
      driver: 'd.example.com',
      pool: 'n1',
      devices: [
        { name: 'vf-0', resourceName: 'vendor.example/nic', deviceId: '0000:18:02.0' },
        { name: 'vf-1' },
      ],
    });
  });

  it('a device allocated to the claim but in no slice of this node is an error naming it', async () => {
    const index = new DraDeviceIndex({
      enabled: () => true,
      claim: () => ({
        namespace: 'ns1',
        name: 'c1',
        uid: 'u',
        results: [{ request: 'r', driver: 'd.example.com', pool: 'other-node', device: 'vf-0' }],
      }),
      slices: () => [],
      liveClaim: async () => undefined,
    });
    await assert.rejects(
      index.devicesFor({ namespace: 'ns1', name: 'p', claims: ['c1'] }),
      /device d\.example\.com\/other-node\/vf-0 of ResourceClaim ns1\/c1 is in none of this node's ResourceSlices/,
    );
  });

  it('a claim that exists nowhere is an error naming it', async () => {
    const index = new DraDeviceIndex({
      enabled: () => true,
      claim: () => undefined,
      slices: () => [],
      liveClaim: async () => undefined,
    });
    await assert.rejects(
      index.devicesFor({ namespace: 'ns1', name: 'p', claims: ['gone'] }),
      /ResourceClaim ns1\/gone of the pod does not exist/,
    );
  });

  it('the server-side apply body is a KEP-4817 status.devices entry per attachment', () => {
    const body = claimStatusApply(
      { namespace: 'ns1', name: 'c1' },
      [
        {
          driver: 'd.example.com',
          pool: 'n1',
          device: 'vf-0',
          interfaceName: 'net1',
          ips: ['192.0.2.5/24'],
          hardwareAddress: '02:00:00:00:00:01',
          network: 'ns1/sriov-a',
        },
      ],
      '2026-12-03T08:00:00Z',
    );
    assert.deepEqual(body, {
      apiVersion: 'resource.k8s.io/v1',
      kind: 'ResourceClaim',
      metadata: { namespace: 'ns1', name: 'c1' },
      status: {
        devices: [
          {
            driver: 'd.example.com',
            pool: 'n1',
            device: 'vf-0',
            conditions: [
              {
                type: 'Ready',
                status: 'True',
                reason: 'NetworkAttached',
                message: 'multinet attached ns1/sriov-a as net1',
                lastTransitionTime: '2026-12-03T08:00:00Z',
              },
            ],
            networkData: {
              interfaceName: 'net1',
              ips: ['192.0.2.5/24'],
              hardwareAddress: '02:00:00:00:00:01',
            },
          },
        ],
      },
    });
  });
});
