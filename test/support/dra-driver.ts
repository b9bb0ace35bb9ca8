/**
 * A DRA driver written in TypeScript, for the tests (the kubelet's plugin registration API and
 * the DRA v1 kubelet plugin service: test/fixtures/kubelet/pluginregistration-v1.proto and
 * dra-v1.proto; @grpc/grpc-js, a dev dependency). It publishes one ResourceSlice for its node
 * whose devices are links in the node's network namespace (veth ends), each with the attributes
 * by which multinet (and Multus) match a device to a NAD (`k8s.cni.cncf.io/resourceName`,
 * `k8s.cni.cncf.io/deviceID`); registers with the node's real kubelet through its
 * plugins_registry directory; and answers NodePrepareResources / NodeUnprepareResources by reading
 * each claim's allocation from the API server, as a real driver does. It prepares nothing on the
 * node: the network plugin (host-device, through multinet) moves the link at CNI ADD.
 *
 *   const driver = await TsDraDriver.start({ driver: 'dra.multinet.test', ... });
 *   driver.prepared    // claim UIDs the kubelet asked to prepare
 *   await driver.stop();
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { REPO_ROOT } from './control-plane.ts';

const PROTO_DIR = join(REPO_ROOT, 'test/fixtures/kubelet');

export interface DraDriverOptions {
  /** The driver name (a DNS subdomain), e.g. `dra.multinet.test`. */
  driver: string;
  nodeName: string;
  /** The kubelet's plugins_registry directory as this process sees it. */
  registryDir: string;
  /** The kubelet's plugins directory as this process sees it, and as the kubelet does. */
  pluginsDir: { here: string; kubelet: string };
  /** Devices: name (a DNS label), the NAD resource name they back, the device ID delegates get. */
  devices: { name: string; resourceName: string; deviceId: string }[];
  /** kubectl as the admin (publishing the slice, reading claims). */
  kubectl(args: string[], opts?: { input?: string }): Promise<string>;
}

interface ClaimRef {
  namespace: string;
  uid: string;
  name: string;
}

interface Allocated {
  request: string;
  driver: string;
  pool: string;
  device: string;
}

function load(file: string): grpc.GrpcObject {
  const def = protoLoader.loadSync(join(PROTO_DIR, file), { keepCase: false, defaults: true });
  return grpc.loadPackageDefinition(def);
}

async function bind(server: grpc.Server, socket: string): Promise<void> {
  await rm(socket, { force: true });
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix://${socket}`, grpc.ServerCredentials.createInsecure(), (err) =>
      err ? reject(err) : resolve(),
    ),
  );
}

export class TsDraDriver {
  /** Claim UIDs of every NodePrepareResources, in order. */
  readonly prepared: string[] = [];
  /** Claim UIDs of every NodeUnprepareResources, in order. */
  readonly unprepared: string[] = [];
  /** What the kubelet said in NotifyRegistrationStatus. */
  registration: { pluginRegistered: boolean; error: string } | undefined;
  readonly rpcs: string[] = [];
  private readonly registrar = new grpc.Server();
  private readonly service = new grpc.Server();

  private constructor(private readonly opts: DraDriverOptions) {}

  static async start(opts: DraDriverOptions): Promise<TsDraDriver> {
    const d = new TsDraDriver(opts);
    await d.publishSlice();
    await d.serve();
    return d;
  }

  get sliceName(): string {
    return `${this.opts.nodeName}-${this.opts.driver}`.replace(/[^a-z0-9.-]/g, '-');
  }

  private get socketDir(): string {
    return join(this.opts.pluginsDir.here, this.opts.driver);
  }

  private get registrationSocket(): string {
    return join(this.opts.registryDir, `${this.opts.driver}-reg.sock`);
  }

  private async publishSlice(): Promise<void> {
    const slice = {
      apiVersion: 'resource.k8s.io/v1',
      kind: 'ResourceSlice',
      metadata: { name: this.sliceName },
      spec: {
        driver: this.opts.driver,
        nodeName: this.opts.nodeName,
        pool: { name: this.opts.nodeName, generation: 1, resourceSliceCount: 1 },
        devices: this.opts.devices.map((d) => ({
          name: d.name,
          attributes: {
            'k8s.cni.cncf.io/resourceName': { string: d.resourceName },
            'k8s.cni.cncf.io/deviceID': { string: d.deviceId },
          },
        })),
      },
    };
    await this.opts.kubectl(['apply', '-f', '-'], { input: JSON.stringify(slice) });
  }

  /** The claim's allocation results for this driver, read from the API server. */
  private async allocated(c: ClaimRef): Promise<Allocated[]> {
    const out = await this.opts.kubectl(['get', 'resourceclaim', c.name, '-n', c.namespace, '-o', 'json']);
    const claim = JSON.parse(out) as {
      metadata: { uid: string };
      status?: { allocation?: { devices?: { results?: Allocated[] } } };
    };
    if (claim.metadata.uid !== c.uid) throw new Error(`claim ${c.namespace}/${c.name} has another UID`);
    return (claim.status?.allocation?.devices?.results ?? []).filter((r) => r.driver === this.opts.driver);
  }

  private async serve(): Promise<void> {
    const reg = (load('pluginregistration-v1.proto') as { pluginregistration: grpc.GrpcObject })
      .pluginregistration as { Registration: grpc.ServiceClientConstructor };
    const dra = (
      load('dra-v1.proto') as {
        k8s: {
          io: { kubelet: { pkg: { apis: { dra: { v1: { DRAPlugin: grpc.ServiceClientConstructor } } } } } };
        };
      }
    ).k8s.io.kubelet.pkg.apis.dra.v1;
    const endpoint = join(this.opts.pluginsDir.kubelet, this.opts.driver, 'dra.sock');

    this.service.addService(dra.DRAPlugin.service, {
      NodePrepareResources: (
        call: grpc.ServerUnaryCall<{ claims: ClaimRef[] }, unknown>,
        cb: grpc.sendUnaryData<unknown>,
      ) => {
        this.rpcs.push('NodePrepareResources');
        void (async () => {
          const claims: Record<string, unknown> = {};
          for (const c of call.request.claims) {
            this.prepared.push(c.uid);
            try {
              const devices = (await this.allocated(c)).map((r) => ({
                requestNames: [r.request],
                poolName: r.pool,
                deviceName: r.device,
                cdiDeviceIds: [],
              }));
              claims[c.uid] = { devices };
            } catch (err) {
              claims[c.uid] = { error: err instanceof Error ? err.message : String(err) };
            }
          }
          cb(null, { claims });
        })();
      },
      NodeUnprepareResources: (
        call: grpc.ServerUnaryCall<{ claims: ClaimRef[] }, unknown>,
        cb: grpc.sendUnaryData<unknown>,
      ) => {
        this.rpcs.push('NodeUnprepareResources');
        const claims: Record<string, unknown> = {};
        for (const c of call.request.claims) {
          this.unprepared.push(c.uid);
          claims[c.uid] = {};
        }
        cb(null, { claims });
      },
    });
    await mkdir(this.socketDir, { recursive: true });
    await bind(this.service, join(this.socketDir, 'dra.sock'));

    this.registrar.addService(reg.Registration.service, {
      GetInfo: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => {
        this.rpcs.push('GetInfo');
        cb(null, {
          type: 'DRAPlugin',
          name: this.opts.driver,
          endpoint,
          supportedVersions: ['v1.DRAPlugin'],
        });
      },
      NotifyRegistrationStatus: (
        call: grpc.ServerUnaryCall<{ pluginRegistered: boolean; error: string }, unknown>,
        cb: grpc.sendUnaryData<unknown>,
      ) => {
        this.rpcs.push('NotifyRegistrationStatus');
        this.registration = { pluginRegistered: call.request.pluginRegistered, error: call.request.error };
        cb(null, {});
      },
    });
    await mkdir(this.opts.registryDir, { recursive: true });
    // Last: the kubelet's plugin watcher dials the socket as soon as it appears.
    await bind(this.registrar, this.registrationSocket);
  }

  /** Unregisters (the socket goes), stops serving, removes the slice. */
  async stop(): Promise<void> {
    await rm(this.registrationSocket, { force: true });
    this.registrar.forceShutdown();
    this.service.forceShutdown();
    await rm(this.socketDir, { recursive: true, force: true });
    await this.opts
      .kubectl(['delete', 'resourceslice', this.sliceName, '--ignore-not-found'])
      .catch(() => '');
  }
}
