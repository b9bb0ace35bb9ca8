/**
 * A Kubernetes device plugin written in TypeScript, for the tests (the kubelet's deviceplugin
 * v1beta1 API, test/fixtures/kubelet/deviceplugin-v1beta1.proto; @grpc/grpc-js, a dev
 * dependency). It advertises one extended resource whose devices are links in a node's network
 * namespace (veth ends: the device ID is the link name), serves the DevicePlugin service on its
 * own socket in the kubelet's device plugin directory, registers there with the kubelet
 * (Registration.Register), and writes a device-info file per device where the device-info spec
 * puts them (§4.1), removing them when it stops (§4.1.1).
 *
 * The device-info files describe each device as `pci` with a made-up address
 * (`0000:00:00.<n>`-style): the spec has no type for a veth, and these files only exist to show
 * the data flow from device plugin to network-status.
 *
 *   const plugin = await TsDevicePlugin.start({ resourceName: 'multinet.test/veth', ... });
 *   plugin.allocations   // what the kubelet asked Allocate for
 *   await plugin.stop();
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { devicePluginFileName } from '../../src/spec/device-info.ts';
import { REPO_ROOT } from './control-plane.ts';

export const DEVICEPLUGIN_PROTO = join(REPO_ROOT, 'test/fixtures/kubelet/deviceplugin-v1beta1.proto');
/** The kubelet's registration socket, relative to its device plugin directory. */
export const KUBELET_SOCKET = 'kubelet.sock';
/** Env var the plugin's Allocate answer sets in the container: the allocated device IDs. */
export const ALLOCATED_ENV = 'MULTINET_TEST_DEVICES';

export interface DevicePluginOptions {
  /** An extended resource name, e.g. `multinet.test/veth`. */
  resourceName: string;
  /** The kubelet's device plugin directory as this process sees it (/var/lib/kubelet/device-plugins). */
  pluginDir: string;
  /** Device IDs (link names); all advertised Healthy. */
  devices: string[];
  /** Where device plugins write device-info files (`.../devinfo/dp`), as this process sees it; unset: none. */
  deviceInfoDir?: string;
  /** Socket file name in `pluginDir`; default from the resource name. */
  endpoint?: string;
}

interface Loaded {
  Registration: grpc.ServiceClientConstructor;
  DevicePlugin: grpc.ServiceClientConstructor;
}

function load(): Loaded {
  const def = protoLoader.loadSync(DEVICEPLUGIN_PROTO, { keepCase: false, defaults: true, longs: String });
  return (grpc.loadPackageDefinition(def) as unknown as { v1beta1: Loaded }).v1beta1;
}

/** A made-up but well-formed PCI address for device number `i` (see the file comment). */
export function syntheticPciAddress(i: number): string {
  const device = Math.floor(i / 8);
  return `0000:00:${device.toString(16).padStart(2, '0')}.${i % 8}`;
}

export class TsDevicePlugin {
  /** Device IDs of every Allocate container request, in order. */
  readonly allocations: string[][] = [];
  /** Every RPC the kubelet made, by name (GetDevicePluginOptions, ListAndWatch, ...). */
  readonly rpcs: string[] = [];
  private readonly health = new Map<string, string>();
  private readonly watchers = new Set<grpc.ServerWritableStream<unknown, unknown>>();
  private readonly server = new grpc.Server();
  private readonly written: string[] = [];
  readonly endpoint: string;

  private constructor(private readonly opts: DevicePluginOptions) {
    this.endpoint = opts.endpoint ?? `${opts.resourceName.replace(/[^A-Za-z0-9]+/g, '-')}.sock`;
    for (const id of opts.devices) this.health.set(id, 'Healthy');
  }

  static async start(opts: DevicePluginOptions): Promise<TsDevicePlugin> {
    const plugin = new TsDevicePlugin(opts);
    await plugin.writeDeviceInfo();
    await plugin.serve();
    await plugin.register();
    return plugin;
  }

  get socketPath(): string {
    return join(this.opts.pluginDir, this.endpoint);
  }

  /** Marks a device Healthy or Unhealthy and tells the kubelet (ListAndWatch). */
  setHealth(id: string, healthy: boolean): void {
    this.health.set(id, healthy ? 'Healthy' : 'Unhealthy');
    for (const w of this.watchers) w.write(this.deviceList());
  }

  private deviceList() {
    return { devices: [...this.health].map(([id, health]) => ({ ID: id, health })) };
  }

  private async writeDeviceInfo(): Promise<void> {
    const dir = this.opts.deviceInfoDir;
    if (!dir) return;
    await mkdir(dir, { recursive: true });
    for (const [i, id] of this.opts.devices.entries()) {
      const file = join(dir, devicePluginFileName(this.opts.resourceName, id));
      const info = { type: 'pci', version: '1.1.0', pci: { 'pci-address': syntheticPciAddress(i) } };
      await writeFile(file, JSON.stringify(info), { mode: 0o444 });
      this.written.push(file);
    }
  }

  private async serve(): Promise<void> {
    const { DevicePlugin } = load();
    const rpc = (name: string) => this.rpcs.push(name);
    this.server.addService(DevicePlugin.service, {
      GetDevicePluginOptions: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => {
        rpc('GetDevicePluginOptions');
        cb(null, { preStartRequired: false, getPreferredAllocationAvailable: true });
      },
      ListAndWatch: (call: grpc.ServerWritableStream<unknown, unknown>) => {
        rpc('ListAndWatch');
        this.watchers.add(call);
        call.on('cancelled', () => this.watchers.delete(call));
        call.on('close', () => this.watchers.delete(call));
        call.write(this.deviceList());
      },
      GetPreferredAllocation: (
        call: grpc.ServerUnaryCall<
          {
            containerRequests: {
              availableDeviceIDs: string[];
              mustIncludeDeviceIDs: string[];
              allocationSize: number;
            }[];
          },
          unknown
        >,
        cb: grpc.sendUnaryData<unknown>,
      ) => {
        rpc('GetPreferredAllocation');
        // The lowest IDs first, the required ones always: deterministic for the tests.
        const containerResponses = call.request.containerRequests.map((r) => {
          const rest = r.availableDeviceIDs.filter((id) => !r.mustIncludeDeviceIDs.includes(id)).sort();
          return { deviceIDs: [...r.mustIncludeDeviceIDs, ...rest].slice(0, r.allocationSize) };
        });
        cb(null, { containerResponses });
      },
      Allocate: (
        call: grpc.ServerUnaryCall<{ containerRequests: { devicesIds: string[] }[] }, unknown>,
        cb: grpc.sendUnaryData<unknown>,
      ) => {
        rpc('Allocate');
        const containerResponses = call.request.containerRequests.map((r) => {
          this.allocations.push([...r.devicesIds]);
          return { envs: { [ALLOCATED_ENV]: r.devicesIds.join(',') } };
        });
        cb(null, { containerResponses });
      },
      PreStartContainer: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => {
        rpc('PreStartContainer');
        cb(null, {});
      },
    });
    await rm(this.socketPath, { force: true });
    await new Promise<void>((resolve, reject) =>
      this.server.bindAsync(`unix://${this.socketPath}`, grpc.ServerCredentials.createInsecure(), (err) =>
        err ? reject(err) : resolve(),
      ),
    );
  }

  /** Registration.Register on the kubelet's socket; the kubelet then dials `endpoint`. */
  private async register(): Promise<void> {
    const { Registration } = load();
    const client = new Registration(
      `unix://${join(this.opts.pluginDir, KUBELET_SOCKET)}`,
      grpc.credentials.createInsecure(),
    );
    try {
      await new Promise<void>((resolve, reject) =>
        client['Register']!(
          {
            version: 'v1beta1',
            endpoint: this.endpoint,
            resourceName: this.opts.resourceName,
            options: { preStartRequired: false, getPreferredAllocationAvailable: true },
          },
          { deadline: Date.now() + 10_000 },
          (err: grpc.ServiceError | null) => (err ? reject(err) : resolve()),
        ),
      );
    } finally {
      client.close();
    }
  }

  /** Ends the streams (the kubelet marks the devices gone), stops serving, removes its files. */
  async stop(): Promise<void> {
    for (const w of this.watchers) w.end();
    this.watchers.clear();
    this.server.forceShutdown();
    await rm(this.socketPath, { force: true });
    for (const f of this.written) await rm(f, { force: true });
  }
}
