import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { PODRESOURCES_PROTO } from '../../test/support/fake-pod-resources.ts';
import {
  decodeGetResponse,
  devicesOf,
  encodeGetRequest,
  findInListResponse,
  type PodResources,
} from './pod-resources.ts';
import { ProtobufError } from './protobuf-wire.ts';

// protobufjs (proto-loader's codec) encodes from the API's .proto: an independent writer, so the
// hand-written reader is checked against the real wire format, unknown fields included.
const root = protobuf.loadSync(PODRESOURCES_PROTO);
const GetResponse = root.lookupType('v1.GetPodResourcesResponse');
const ListResponse = root.lookupType('v1.ListPodResourcesResponse');
const GetRequest = root.lookupType('v1.GetPodResourcesRequest');

const fullPod = {
  name: 'pod-a',
  namespace: 'ns1',
  cpuIds: [2, 3],
  memory: [{ memoryType: 'memory', size: 1 << 30, topology: { nodes: [{ ID: 0 }] } }],
  containers: [
    {
      name: 'app',
      cpuIds: [4, 5000000000],
      devices: [
        { resourceName: 'vendor.example/nic', deviceIds: ['nic3', 'nic1'], topology: { nodes: [{ ID: 1 }] } },
      ],
      dynamicResources: [
        {
          claimName: 'c',
          claimNamespace: 'ns1',
          claimResources: [
            { driverName: 'd', poolName: 'p', deviceName: 'x', cdiDevices: [{ name: 'v/k=1' }] },
          ],
        },
      ],
    },
    { name: 'side', devices: [{ resourceName: 'vendor.example/nic', deviceIds: ['nic2'] }] },
  ],
};

const encode = (type: protobuf.Type, value: object): Uint8Array =>
  type.encode(type.fromObject(value)).finish();

describe('PodResources v1 messages', () => {
  it('reads a GetPodResourcesResponse with every field the API has, skipping what it does not need', () => {
    const pod = decodeGetResponse(encode(GetResponse, { podResources: fullPod }));
    assert.deepEqual(pod, {
      name: 'pod-a',
      namespace: 'ns1',
      devices: [
        { resourceName: 'vendor.example/nic', deviceIds: ['nic3', 'nic1'] },
        { resourceName: 'vendor.example/nic', deviceIds: ['nic2'] },
      ],
    } satisfies PodResources);
    assert.deepEqual(Object.fromEntries(devicesOf(pod)), { 'vendor.example/nic': ['nic1', 'nic2', 'nic3'] });
  });

  it('finds the one pod in a ListPodResourcesResponse', () => {
    const list = encode(ListResponse, {
      podResources: [
        { ...fullPod, name: 'other' },
        fullPod,
        { name: 'pod-a', namespace: 'ns2', containers: [] },
      ],
    });
    assert.equal(findInListResponse(list, { namespace: 'ns1', name: 'pod-a' })?.devices.length, 2);
    assert.equal(findInListResponse(list, { namespace: 'ns3', name: 'pod-a' }), undefined);
  });

  it('writes a GetPodResourcesRequest the API reads', () => {
    const req = GetRequest.toObject(GetRequest.decode(encodeGetRequest({ namespace: 'ns1', name: 'pod-ä' })));
    assert.deepEqual(req, { podName: 'pod-ä', podNamespace: 'ns1' });
  });

  it('an empty answer is a pod without devices', () => {
    assert.equal(devicesOf(decodeGetResponse(new Uint8Array(0))).size, 0);
  });

  it('truncated or corrupted answers are ProtobufErrors, never another failure', () => {
    const good = encode(GetResponse, { podResources: fullPod });
    fc.assert(
      fc.property(fc.nat(good.length - 1), fc.nat(255), fc.nat(good.length - 1), (cut, byte, at) => {
        const bad = Uint8Array.from(good.subarray(0, cut));
        if (at < bad.length) bad[at] = byte;
        try {
          decodeGetResponse(bad);
        } catch (err) {
          assert.ok(err instanceof ProtobufError, String(err));
        }
      }),
      { numRuns: 2000 },
    );
  });
});
