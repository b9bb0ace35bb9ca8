/**
 * FAKE kubelet PodResources server (v1.PodResourcesLister, test/fixtures/kubelet/podresources-v1.proto)
 * for integration and unit tests only: the real kubelet runs only in the cluster tests. It is a
 * real gRPC server (@grpc/grpc-js, a dev dependency) on a unix socket, so multinet's client is
 * exercised on the wire; what it answers is what the test puts in `pods`, and every call is
 * recorded in `calls`. `get`: `implemented` (kubelet ≥ 1.34), `disabled` (1.27-1.33 with the
 * feature gate off: Unknown "PodResources API Get method disabled"), or `missing` (before 1.27:
 * Unimplemented).
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { REPO_ROOT } from './control-plane.ts';

export const PODRESOURCES_PROTO = join(REPO_ROOT, 'test/fixtures/kubelet/podresources-v1.proto');

export interface FakeContainer {
  name: string;
  devices: { resourceName: string; deviceIds: string[] }[];
}

export interface FakePodResources {
  namespace: string;
  name: string;
  containers: FakeContainer[];
}

export interface FakeCall {
  method: 'Get' | 'List';
  pod?: { namespace: string; name: string };
}

type ServiceDef = grpc.ServiceDefinition;

function loadService(): ServiceDef {
  const def = protoLoader.loadSync(PODRESOURCES_PROTO, { keepCase: false, defaults: true, longs: String });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    v1: { PodResourcesLister: { service: ServiceDef } };
  };
  return pkg.v1.PodResourcesLister.service;
}

const toWire = (p: FakePodResources) => ({
  name: p.name,
  namespace: p.namespace,
  containers: p.containers.map((c) => ({ name: c.name, devices: c.devices })),
});

export class FakePodResourcesServer {
  readonly calls: FakeCall[] = [];
  pods: FakePodResources[] = [];
  get: 'implemented' | 'disabled' | 'missing' = 'implemented';
  /** When set, every call fails with this gRPC status (e.g. 14 Unavailable). */
  failWith: { code: grpc.status; details: string } | undefined;

  private constructor(
    readonly socketPath: string,
    private readonly server: grpc.Server,
  ) {}

  static async start(socketPath: string, pods: FakePodResources[] = []): Promise<FakePodResourcesServer> {
    const server = new grpc.Server();
    const fake = new FakePodResourcesServer(socketPath, server);
    fake.pods = pods;
    const service = loadService();
    const impl: grpc.UntypedServiceImplementation = {
      List: (call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        fake.calls.push({ method: 'List' });
        if (fake.failWith) return cb(fake.failWith);
        cb(null, { podResources: fake.pods.map(toWire) });
      },
      Get: (
        call: grpc.ServerUnaryCall<{ podName: string; podNamespace: string }, unknown>,
        cb: grpc.sendUnaryData<unknown>,
      ) => {
        const pod = { namespace: call.request.podNamespace, name: call.request.podName };
        fake.calls.push({ method: 'Get', pod });
        if (fake.failWith) return cb(fake.failWith);
        if (fake.get === 'missing')
          return cb({ code: grpc.status.UNIMPLEMENTED, details: 'unknown method Get' });
        if (fake.get === 'disabled')
          return cb({ code: grpc.status.UNKNOWN, details: 'PodResources API Get method disabled' });
        const found = fake.pods.find((p) => p.namespace === pod.namespace && p.name === pod.name);
        if (!found)
          return cb({
            code: grpc.status.UNKNOWN,
            details: `pod ${pod.name} in namespace ${pod.namespace} not found`,
          });
        cb(null, { podResources: toWire(found) });
      },
      GetAllocatableResources: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => cb(null, { devices: [] }),
    };
    server.addService(service, impl);
    await rm(socketPath, { force: true });
    await new Promise<void>((resolve, reject) =>
      server.bindAsync(`unix://${socketPath}`, grpc.ServerCredentials.createInsecure(), (err) =>
        err ? reject(err) : resolve(),
      ),
    );
    return fake;
  }

  /** Calls of one method so far. */
  count(method: FakeCall['method']): number {
    return this.calls.filter((c) => c.method === method).length;
  }

  async stop(): Promise<void> {
    this.server.forceShutdown();
    await rm(this.socketPath, { force: true });
  }
}
