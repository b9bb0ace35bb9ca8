import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { FakePodResourcesServer } from '../../test/support/fake-pod-resources.ts';
import { PodResourcesError } from '../k8s/pod-resources.ts';
import { GrpcCallError, grpcUnaryCall } from './grpc-unary-call.ts';
import { KubeletPodResourcesClient } from './kubelet-pod-resources.ts';

const POD = { namespace: 'ns1', name: 'pod-a' };
const PODS = [
  {
    ...POD,
    containers: [
      { name: 'app', devices: [{ resourceName: 'vendor.example/nic', deviceIds: ['nic3', 'nic1'] }] },
      {
        name: 'side',
        devices: [
          { resourceName: 'vendor.example/nic', deviceIds: ['nic2'] },
          { resourceName: 'vendor.example/gpu', deviceIds: ['gpu0'] },
        ],
      },
    ],
  },
  { namespace: 'ns1', name: 'pod-b', containers: [{ name: 'app', devices: [] }] },
];

describe('KubeletPodResourcesClient against a FAKE kubelet (grpc-js server on a unix socket)', () => {
  let dir: string;
  let fake: FakePodResourcesServer;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mn-podres-'));
    fake = await FakePodResourcesServer.start(join(dir, 'kubelet.sock'), PODS);
  });
  after(async () => {
    await fake.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('asks Get for the one pod and merges its containers by resource, sorted', async () => {
    fake.calls.length = 0;
    fake.get = 'implemented';
    const client = new KubeletPodResourcesClient({ socketPath: fake.socketPath });
    const devices = await client.podDevices(POD);
    assert.deepEqual(Object.fromEntries(devices), {
      'vendor.example/nic': ['nic1', 'nic2', 'nic3'],
      'vendor.example/gpu': ['gpu0'],
    });
    assert.deepEqual(fake.calls, [{ method: 'Get', pod: POD }]);
  });

  it('falls back to List when Get is unimplemented or disabled, and remembers it', async () => {
    for (const mode of ['missing', 'disabled'] as const) {
      fake.calls.length = 0;
      fake.get = mode;
      const client = new KubeletPodResourcesClient({ socketPath: fake.socketPath });
      const first = await client.podDevices(POD);
      assert.deepEqual(first.get('vendor.example/nic'), ['nic1', 'nic2', 'nic3']);
      assert.deepEqual(
        fake.calls.map((c) => c.method),
        ['Get', 'List'],
        mode,
      );
      assert.equal((await client.podDevices({ namespace: 'ns1', name: 'pod-b' })).size, 0);
      assert.deepEqual(
        fake.calls.map((c) => c.method),
        ['Get', 'List', 'List'],
        `${mode}: Get is not tried again`,
      );
    }
  });

  it('reports a kubelet error with its message, the pod and the socket', async () => {
    fake.get = 'implemented';
    fake.failWith = { code: status.UNAVAILABLE, details: 'kubelet is shutting down' };
    try {
      const client = new KubeletPodResourcesClient({ socketPath: fake.socketPath });
      await assert.rejects(client.podDevices(POD), (err: unknown) => {
        assert.ok(err instanceof PodResourcesError);
        assert.equal(err.retryable, true);
        assert.match(err.message, /pod ns1\/pod-a/);
        assert.match(err.message, /kubelet\.sock/);
        assert.match(err.message, /status 14: kubelet is shutting down/);
        return true;
      });
    } finally {
      fake.failWith = undefined;
    }
  });

  it('a missing socket is a clear, retryable error', async () => {
    const client = new KubeletPodResourcesClient({ socketPath: join(dir, 'absent.sock') });
    await assert.rejects(
      client.podDevices(POD),
      (err: unknown) =>
        err instanceof PodResourcesError && /cannot reach .*absent\.sock: ENOENT/.test(err.message),
    );
  });
});

describe('grpcUnaryCall bounds', () => {
  it('gives up at its deadline on a server that never answers', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mn-grpc-'));
    const path = join(dir, 'silent.sock');
    const sockets = new Set<Socket>();
    const server = createServer((s) => void sockets.add(s)).listen(path);
    try {
      await assert.rejects(
        grpcUnaryCall({
          socketPath: path,
          method: '/x.Y/Z',
          message: new Uint8Array(0),
          timeoutMs: 200,
          maxResponseBytes: 1024,
        }),
        (err: unknown) =>
          err instanceof GrpcCallError && err.status === 4 && /no answer within 200 ms/.test(err.message),
      );
    } finally {
      for (const s of sockets) s.destroy();
      server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses an answer larger than its bound', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mn-grpc-'));
    const big = {
      namespace: 'ns1',
      name: 'big',
      containers: [
        { name: 'c', devices: [{ resourceName: 'vendor.example/nic', deviceIds: ['x'.repeat(4096)] }] },
      ],
    };
    const fake = await FakePodResourcesServer.start(join(dir, 'kubelet.sock'), [big]);
    try {
      const client = new KubeletPodResourcesClient({ socketPath: fake.socketPath, maxResponseBytes: 1024 });
      await assert.rejects(
        client.podDevices({ namespace: 'ns1', name: 'big' }),
        (err: unknown) => err instanceof PodResourcesError && /larger than 1024 bytes/.test(err.message),
      );
    } finally {
      await fake.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
