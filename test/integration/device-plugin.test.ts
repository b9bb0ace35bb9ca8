/**
 * The TypeScript device plugin of the cluster tests (test/support/device-plugin.ts) against a
 * FAKE kubelet: a grpc-js Registration server on kubelet.sock that, as the kubelet's device
 * manager does, dials the endpoint the plugin registered and calls the DevicePlugin service. The
 * real kubelet drives it in test/cluster/scenario-device-plugin.ts.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { parseDeviceInfo } from '../../src/spec/device-info.ts';
import {
  ALLOCATED_ENV,
  DEVICEPLUGIN_PROTO,
  KUBELET_SOCKET,
  TsDevicePlugin,
} from '../support/device-plugin.ts';

type Ctor = grpc.ServiceClientConstructor;
const pkg = (
  grpc.loadPackageDefinition(
    protoLoader.loadSync(DEVICEPLUGIN_PROTO, { keepCase: false, defaults: true }),
  ) as unknown as {
    v1beta1: { Registration: Ctor; DevicePlugin: Ctor };
  }
).v1beta1;

interface Registered {
  version: string;
  endpoint: string;
  resourceName: string;
  options: { getPreferredAllocationAvailable: boolean };
}

function unary<T>(client: grpc.Client, method: string, req: unknown): Promise<T> {
  return new Promise((resolve, reject) =>
    (client as unknown as Record<string, (r: unknown, cb: (e: Error | null, v: T) => void) => void>)[method]!(
      req,
      (err, value) => (err ? reject(err) : resolve(value)),
    ),
  );
}

describe('TsDevicePlugin (deviceplugin v1beta1) with a FAKE kubelet', { timeout: 60_000 }, () => {
  it('registers, lists its devices, allocates, writes and removes device-info files', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'mn-dp-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const pluginDir = join(dir, 'device-plugins');
    const dpDir = join(dir, 'devinfo', 'dp');
    await mkdir(pluginDir, { recursive: true });

    const registered: Registered[] = [];
    const kubelet = new grpc.Server();
    kubelet.addService(pkg.Registration.service, {
      Register: (call: grpc.ServerUnaryCall<Registered, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        registered.push(call.request);
        cb(null, {});
      },
    });
    await new Promise<void>((resolve, reject) =>
      kubelet.bindAsync(
        `unix://${join(pluginDir, KUBELET_SOCKET)}`,
        grpc.ServerCredentials.createInsecure(),
        (e) => (e ? reject(e) : resolve()),
      ),
    );
    t.after(() => kubelet.forceShutdown());

    const plugin = await TsDevicePlugin.start({
      resourceName: 'multinet.test/veth',
      pluginDir,
      devices: ['vf0', 'vf1', 'vf2'],
      deviceInfoDir: dpDir,
    });
    let stopped = false;
    t.after(() => (stopped ? undefined : plugin.stop()));
    assert.deepEqual(registered, [
      {
        version: 'v1beta1',
        endpoint: plugin.endpoint,
        resourceName: 'multinet.test/veth',
        options: { preStartRequired: false, getPreferredAllocationAvailable: true },
      },
    ]);

    // As the kubelet: dial the registered endpoint in the plugin directory.
    const dp = new pkg.DevicePlugin(
      `unix://${join(pluginDir, registered[0]!.endpoint)}`,
      grpc.credentials.createInsecure(),
    );
    t.after(() => dp.close());
    assert.deepEqual(await unary(dp, 'GetDevicePluginOptions', {}), {
      preStartRequired: false,
      getPreferredAllocationAvailable: true,
    });
    const stream = (
      dp as unknown as { ListAndWatch(r: unknown): grpc.ClientReadableStream<unknown> }
    ).ListAndWatch({});
    const updates: { devices: { ID: string; health: string }[] }[] = [];
    const next = () =>
      new Promise<void>((resolve) => {
        const n = updates.length;
        const tick = setInterval(() => {
          if (updates.length > n) {
            clearInterval(tick);
            resolve();
          }
        }, 10);
      });
    stream.on('data', (d: { devices: { ID: string; health: string }[] }) => updates.push(d));
    stream.on('error', () => undefined);
    await next();
    assert.deepEqual(
      updates[0]!.devices.map((d) => [d.ID, d.health]),
      [
        ['vf0', 'Healthy'],
        ['vf1', 'Healthy'],
        ['vf2', 'Healthy'],
      ],
    );
    const changed = next();
    plugin.setHealth('vf2', false);
    await changed;
    assert.equal(updates[1]!.devices.find((d) => d.ID === 'vf2')?.health, 'Unhealthy');

    assert.deepEqual(
      await unary(dp, 'GetPreferredAllocation', {
        containerRequests: [
          { availableDeviceIDs: ['vf1', 'vf0'], mustIncludeDeviceIDs: ['vf1'], allocationSize: 2 },
        ],
      }),
      { containerResponses: [{ deviceIDs: ['vf1', 'vf0'] }] },
    );
    const allocated = await unary<{ containerResponses: { envs: Record<string, string> }[] }>(
      dp,
      'Allocate',
      {
        containerRequests: [{ devicesIds: ['vf0', 'vf1'] }],
      },
    );
    assert.deepEqual(allocated.containerResponses[0]!.envs, { [ALLOCATED_ENV]: 'vf0,vf1' });
    assert.deepEqual(plugin.allocations, [['vf0', 'vf1']]);
    assert.deepEqual(await unary(dp, 'PreStartContainer', { devicesIds: ['vf0'] }), {});

    // One device-info file per device, valid by the spec's schema, where the spec puts them.
    const files = (await readdir(dpDir)).sort();
    assert.deepEqual(files, [
      'multinet.test-veth-vf0-device.json',
      'multinet.test-veth-vf1-device.json',
      'multinet.test-veth-vf2-device.json',
    ]);
    for (const f of files) parseDeviceInfo(await readFile(join(dpDir, f), 'utf8'), f);

    await plugin.stop();
    stopped = true;
    assert.deepEqual(await readdir(dpDir), [], 'its device-info files go with it');
    assert.equal(existsSync(plugin.socketPath), false);
  });
});
