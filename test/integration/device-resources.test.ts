/**
 * Device-plugin resources end to end without a kubelet (docs/devices.md): the real daemon (the
 * shipped bundle) in local mode and the real shim; the kubelet's PodResources API played by a
 * FAKE server (test/support/fake-pod-resources.ts); devices that are real veth ends in the node
 * namespace, moved into the pod by the real host-device plugin. host-device reads a device ID as a
 * PCI address, which a veth has not: each delegate runs through the recording wrapper
 * (test/support/recording-plugins), which records what multinet handed it and gives host-device
 * the device ID as its link name. The device plugin's side is played by writing its device-info
 * files, as test/support/device-plugin.ts does on a real node.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { devicePluginFileName } from '../../src/spec/device-info.ts';
import { syntheticPciAddress } from '../support/device-plugin.ts';
import { FakePodResourcesServer } from '../support/fake-pod-resources.ts';
import { FAKE_PLUGIN_DIR, FaultScene, NOTHING, podArgs } from '../support/fault-scene.ts';
import { REPO_ROOT } from '../support/control-plane.ts';
import { linkIn, PLUGIN_DIR, type IpLink } from '../support/netns.ts';
import { bridgeConf } from './daemon-harness.ts';

const RESOURCE = 'multinet.test/veth';
const DEVICES = ['vf1', 'vf0'];
const RECORDING_SOURCE = join(REPO_ROOT, 'test/support/recording-plugins');

interface Recorded {
  command: string;
  containerId: string;
  ifName: string;
  received: Record<string, unknown> & { runtimeConfig?: Record<string, unknown> };
}

interface StatusEntry {
  name: string;
  interface: string;
  'device-info'?: unknown;
}

const nad = (name: string, config: Record<string, unknown>) => ({
  apiVersion: 'k8s.cni.cncf.io/v1',
  kind: 'NetworkAttachmentDefinition',
  metadata: { namespace: 'default', name, annotations: { 'k8s.v1.cni.cncf.io/resourceName': RESOURCE } },
  spec: { config: JSON.stringify({ cniVersion: '1.0.0', name, ...config }) },
});

const pod = (name: string, networks: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { namespace: 'default', name, annotations: { 'k8s.v1.cni.cncf.io/networks': networks } },
});

describe('device-plugin resources: FAKE kubelet, real host-device, real veths', { timeout: 180_000 }, () => {
  it('two attachments of one resource get two devices; network-status has device-info; DEL gives the links back; a pod without the resource gets nothing', async (t) => {
    const s = await FaultScene.create(t, (topo) => ({
      primary: bridgeConf(topo, { subnet: '10.62.0.0/24', bridge: 'mndev0' }),
      daemon: {
        localDir: join(topo.tmpDir, 'manifests'),
        podResourcesSocket: join(topo.tmpDir, 'kubelet.sock'),
        deviceInfoDir: join(topo.tmpDir, 'devinfo'),
      },
      bridges: ['mndev0'],
    }));
    const tmp = s.topo.tmpDir;
    const record = join(tmp, 'recorded.jsonl');
    const cniDir = join(tmp, 'devinfo', 'cni');
    const recordingBin = join(tmp, 'recording-bin');
    await mkdir(recordingBin);
    for (const f of ['recording-wrapper', 'recording-wrapper.mjs'])
      await copyFile(join(RECORDING_SOURCE, f), join(recordingBin, f));
    for (const id of DEVICES) await s.addNodeLink(id);

    // The device plugin's files (device-info spec §4.1), one per device.
    const dpDir = join(tmp, 'devinfo', 'dp');
    await mkdir(dpDir, { recursive: true });
    const infoOf = (id: string) => ({
      type: 'pci',
      version: '1.1.0',
      pci: { 'pci-address': syntheticPciAddress([...DEVICES].sort().indexOf(id)) },
    });
    for (const id of DEVICES)
      await writeFile(join(dpDir, devicePluginFileName(RESOURCE, id)), JSON.stringify(infoOf(id)), {
        mode: 0o444,
      });

    const kubelet = await FakePodResourcesServer.start(join(tmp, 'kubelet.sock'), [
      {
        namespace: 'default',
        name: 'dev-pod',
        containers: [{ name: 'app', devices: [{ resourceName: RESOURCE, deviceIds: DEVICES }] }],
      },
      { namespace: 'default', name: 'no-dev-pod', containers: [{ name: 'app', devices: [] }] },
    ]);
    t.after(() => kubelet.stop());

    const wrapped = (delegate: string, extra: Record<string, unknown> = {}) => ({
      type: 'recording-wrapper',
      recordingDelegate: delegate,
      recordingFile: record,
      ...extra,
    });
    const manifests = join(tmp, 'manifests');
    await mkdir(manifests, { recursive: true });
    await writeFile(
      join(manifests, 'objects.json'),
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: [
          // A single config whose plugin takes the device ID from runtimeConfig...
          nad('dev-a', {
            ...wrapped('host-device', { recordingDeviceIdAs: 'device' }),
            capabilities: { deviceID: true, CNIDeviceInfoFile: true },
          }),
          // ...and a list: every plugin gets deviceID and pciBusID, the capability args only where declared.
          nad('dev-b', {
            plugins: [
              {
                ...wrapped('host-device', { recordingDeviceIdAs: 'device' }),
                capabilities: { deviceID: true, CNIDeviceInfoFile: true },
              },
              wrapped('bandwidth'),
            ],
          }),
          pod('dev-pod', 'dev-a, dev-b'),
          pod('no-dev-pod', 'dev-a'),
        ],
      }),
    );
    await s.start({ binDirs: [recordingBin, FAKE_PLUGIN_DIR, PLUGIN_DIR] });

    const p = await s.topo.addPod();
    const add = await s.call('ADD', 'ctr-dev', p, podArgs('dev-pod'));
    assert.equal(add.exitCode, 0, `${add.stdout}\n${s.daemon!.describe()}`);
    assert.deepEqual(
      kubelet.calls,
      [{ method: 'Get', pod: { namespace: 'default', name: 'dev-pod' } }],
      'one PodResources call for the ADD',
    );

    // host-device moved the devices in the kubelet's order made stable: sorted, net1 first.
    const links = new Map<string, IpLink & { ifalias?: string }>();
    for (const ifName of ['net1', 'net2']) links.set(ifName, (await linkIn(p.name, ifName))!);
    assert.equal(links.get('net1')?.ifalias, 'vf0', 'net1 is the node link vf0');
    assert.equal(links.get('net2')?.ifalias, 'vf1', 'net2 is the node link vf1');
    assert.equal(await linkIn(s.topo.node, 'vf0'), undefined);
    assert.equal(await linkIn(s.topo.node, 'vf1'), undefined);

    // What each delegate received (recorded before the real plugin ran).
    const adds = (await readFile(record, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Recorded)
      .filter((r) => r.command === 'ADD');
    const fileOf = (nadName: string, ifName: string) => join(cniDir, `default-${nadName}-ctr-dev_${ifName}`);
    assert.deepEqual(
      adds.map((r) => [
        r.ifName,
        r.received['recordingDelegate'],
        r.received['deviceID'],
        r.received['pciBusID'],
        r.received.runtimeConfig?.['deviceID'],
        r.received.runtimeConfig?.['CNIDeviceInfoFile'],
      ]),
      [
        ['net1', 'host-device', 'vf0', 'vf0', 'vf0', fileOf('dev-a', 'net1')],
        ['net2', 'host-device', 'vf1', 'vf1', 'vf1', fileOf('dev-b', 'net2')],
        // The second plugin of the list declares no capability: no runtimeConfig (libcni).
        ['net2', 'bandwidth', 'vf1', 'vf1', undefined, undefined],
      ],
    );

    // network-status: the device plugin's device-info, copied to the CNI file and read back.
    const statusFile = join(manifests, 'default.dev-pod.network-status.json');
    const status = JSON.parse(await readFile(statusFile, 'utf8')) as StatusEntry[];
    assert.deepEqual(
      status.map((e) => [e.name, e.interface, e['device-info']]),
      [
        ['podnet', 'eth0', undefined],
        ['default/dev-a', 'net1', infoOf('vf0')],
        ['default/dev-b', 'net2', infoOf('vf1')],
      ],
    );
    assert.deepEqual((await readdir(cniDir)).sort(), [
      'default-dev-a-ctr-dev_net1',
      'default-dev-b-ctr-dev_net2',
    ]);

    const del = await s.call('DEL', 'ctr-dev', p, podArgs('dev-pod'));
    assert.equal(del.exitCode, 0, `${del.stdout}\n${s.daemon!.describe()}`);
    assert.equal(kubelet.calls.length, 1, 'DEL asks the kubelet nothing');
    assert.ok(await linkIn(s.topo.node, 'vf0'), 'vf0 is back in the node namespace');
    assert.ok(await linkIn(s.topo.node, 'vf1'), 'vf1 is back in the node namespace');
    assert.deepEqual(await readdir(cniDir), [], 'the CNI device-info files are gone');
    assert.deepEqual(await s.leftovers([p]), NOTHING);

    // A pod selecting the NAD without the resource: refused by name, nothing attached, nothing left.
    const q = await s.topo.addPod();
    const refused = await s.call('ADD', 'ctr-nodev', q, podArgs('no-dev-pod'));
    assert.equal(refused.exitCode, 1);
    const err = refused.json as { code: number; msg: string; details: string };
    assert.equal(err.code, 7, refused.stdout);
    assert.match(err.msg, /DEVICE_NOT_ALLOCATED/);
    assert.match(err.details, /network default\/dev-a/);
    assert.match(err.details, /resource "multinet\.test\/veth"/);
    assert.equal(kubelet.count('Get'), 2);
    assert.equal(
      (await readFile(record, 'utf8')).split('\n').filter((l) => l.includes('ctr-nodev')).length,
      0,
      'no delegate of the refused pod ran',
    );
    assert.equal((await s.call('DEL', 'ctr-nodev', q, podArgs('no-dev-pod'))).exitCode, 0);
    assert.deepEqual(await s.leftovers([p, q]), NOTHING);
    assert.deepEqual(await readdir(cniDir), []);
    assert.ok(await linkIn(s.topo.node, 'vf0'));
  });
});
