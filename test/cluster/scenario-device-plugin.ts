/**
 * Device-plugin resources on the real cluster (issue 13, docs/devices.md). The TypeScript device
 * plugin (test/support/device-plugin.ts) runs in this test process and registers with node1's
 * real kubelet through the node's device plugin directory (a bind mount of the node's private
 * /var/lib/kubelet, cluster-node.ts); its devices are veth ends in node1's network namespace. A
 * pod requests two of them in its limits and selects two NADs naming the resource: the kubelet
 * allocates, multinet asks the kubelet's PodResources API once and gives each attachment its own
 * device; the real host-device plugin moves the links into the pod (through the recording
 * wrapper, test/support/recording-plugins: host-device reads a device ID as a PCI address, which
 * a veth has not); network-status carries the device plugin's device-info; deleting the pod gives
 * the links back to the node. A pod that selects the NAD without requesting the resource fails
 * with DEVICE_NOT_ALLOCATED naming the resource and the network, and nothing is attached.
 */
import assert from 'node:assert/strict';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { parseNetworkStatus } from '../../src/spec/network-status.ts';
import { NETWORK_STATUS_ANNOTATION } from '../../src/spec/well-known.ts';
import type { Cluster } from '../support/cluster.ts';
import { TOOLBOX_IMAGE } from '../support/cluster-images.ts';
import { ALLOCATED_ENV, syntheticPciAddress, TsDevicePlugin } from '../support/device-plugin.ts';
import type { IpLink } from '../support/netns.ts';
import {
  addVethDevices,
  getPod,
  installRecordingWrapper,
  nodeLeftovers,
  podEvents,
  RECORDING_WRAPPER_FILES,
  waitGone,
  waitRunning,
  waitUntil,
} from './cluster-checks.ts';

const RESOURCE = 'multinet.test/veth';
const DEVICES = ['dpv0', 'dpv1'];
/** Where the delegates record what they got: a node path the DaemonSet mounts (/var/lib/cni). */
const RECORD_DIR = '/var/lib/cni/recording-wrapper';
const RECORD = `${RECORD_DIR}/device-plugin.jsonl`;
const DEVINFO = '/run/k8s.cni.cncf.io/devinfo';

interface Recorded {
  command: string;
  containerId: string;
  ifName: string;
  received: Record<string, unknown> & { runtimeConfig?: Record<string, unknown> };
}

const wrapped = (delegate: string, extra: Record<string, unknown> = {}) => ({
  type: 'recording-wrapper',
  recordingDelegate: delegate,
  recordingFile: RECORD,
  ...extra,
});

function nad(name: string, config: Record<string, unknown>): object {
  return {
    apiVersion: 'k8s.cni.cncf.io/v1',
    kind: 'NetworkAttachmentDefinition',
    metadata: { name, namespace: 'default', annotations: { 'k8s.v1.cni.cncf.io/resourceName': RESOURCE } },
    spec: { config: JSON.stringify({ cniVersion: '1.0.0', ...config }) },
  };
}

function pod(name: string, node: string, networks: string, devices: number): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', annotations: { 'k8s.v1.cni.cncf.io/networks': networks } },
    spec: {
      nodeSelector: { 'kubernetes.io/hostname': node },
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: 'toolbox',
          image: TOOLBOX_IMAGE,
          ...(devices > 0 ? { resources: { limits: { [RESOURCE]: String(devices) } } } : {}),
        },
      ],
    },
  };
}

export async function runDevicePluginScenario(t: TestContext, cluster: Cluster): Promise<void> {
  const node = cluster.nodes[0]!;
  const nodeLinks = async () =>
    (JSON.parse(await node.exec(['ip', '-j', 'link'])) as IpLink[]).map((l) => l.ifname);
  const started: { plugin?: TsDevicePlugin } = {};
  t.after(async () => {
    // Whatever failed above: no pod retrying, no device plugin, no test link or file left.
    await cluster.kubectl(['delete', 'pod', 'devpod', 'nodevpod', '--ignore-not-found', '--wait=false']);
    await waitGone(cluster, 'devpod').catch(() => undefined);
    await waitGone(cluster, 'nodevpod').catch(() => undefined);
    await cluster.kubectl([
      'delete',
      'network-attachment-definitions',
      'dev-a',
      'dev-b',
      '--ignore-not-found',
    ]);
    await started.plugin?.stop();
    for (const id of DEVICES) await node.exec(['ip', 'link', 'del', id]).catch(() => undefined);
    await rm(node.hostPath(RECORD_DIR), { recursive: true, force: true });
    for (const f of RECORDING_WRAPPER_FILES)
      await rm(join(node.hostPath('/opt/cni/bin'), f), { force: true });
  });

  // The devices: veth ends in the node's network namespace (their peers stay there).
  await addVethDevices(node, DEVICES);
  // The recording wrapper in the node's CNI bin dir (the DaemonSet mounts it, root-owned).
  await installRecordingWrapper(node, RECORD_DIR);

  const plugin = (started.plugin = await TsDevicePlugin.start({
    resourceName: RESOURCE,
    pluginDir: node.hostPath('/var/lib/kubelet/device-plugins'),
    devices: DEVICES,
    deviceInfoDir: node.hostPath(`${DEVINFO}/dp`),
  }));
  await waitUntil(`${node.name} advertises ${RESOURCE}`, async () => {
    const n = JSON.parse(await cluster.kubectl(['get', 'node', node.name, '-o', 'json'])) as {
      status: { allocatable?: Record<string, string> };
    };
    return n.status.allocatable?.[RESOURCE] === String(DEVICES.length);
  });
  t.diagnostic(`kubelet called the plugin: ${plugin.rpcs.join(', ')}`);

  const objects = [
    nad('dev-a', {
      ...wrapped('host-device', { recordingDeviceIdAs: 'device' }),
      capabilities: { deviceID: true, CNIDeviceInfoFile: true },
    }),
    nad('dev-b', {
      plugins: [
        {
          ...wrapped('host-device', { recordingDeviceIdAs: 'device' }),
          capabilities: { deviceID: true, CNIDeviceInfoFile: true },
        },
        wrapped('bandwidth'),
      ],
    }),
    pod('devpod', node.name, 'dev-a, dev-b', 2),
  ];
  await cluster.kubectl(['apply', '-f', '-'], { input: objects.map((o) => JSON.stringify(o)).join('\n') });
  const running = await waitRunning(cluster, 'devpod', 'default', 120_000);
  assert.equal(running.spec.nodeName, node.name);

  // The kubelet allocated both devices to the pod's container (the plugin's Allocate saw them).
  assert.deepEqual(
    plugin.allocations.map((ids) => [...ids].sort()),
    [DEVICES],
  );
  const env = await cluster.kubectl(['exec', 'devpod', '--', 'env']);
  assert.match(env, new RegExp(`^${ALLOCATED_ENV}=`, 'm'));

  // host-device moved the links in, in sorted device order: net1 is dpv0, net2 dpv1.
  for (const [ifName, id] of [
    ['net1', 'dpv0'],
    ['net2', 'dpv1'],
  ] as const) {
    const alias = await cluster.kubectl(['exec', 'devpod', '--', 'cat', `/sys/class/net/${ifName}/ifalias`]);
    assert.equal(alias.trim(), id, `${ifName} is the node's ${id}`);
  }
  const moved = await nodeLinks();
  assert.ok(
    !moved.includes('dpv0') && !moved.includes('dpv1'),
    `the devices left the node: ${moved.join(' ')}`,
  );

  // network-status: each attachment's device-info, from the device plugin's files.
  const status = parseNetworkStatus(
    (await getPod(cluster, 'devpod')).metadata.annotations?.[NETWORK_STATUS_ANNOTATION] ?? '[]',
  );
  t.diagnostic(`network-status: ${JSON.stringify(status)}`);
  const info = (i: number) => ({
    type: 'pci',
    version: '1.1.0',
    pci: { 'pci-address': syntheticPciAddress(i) },
  });
  assert.deepEqual(
    status.map((s) => [s.interface, s['device-info']]),
    [
      ['eth0', undefined],
      ['net1', info(0)],
      ['net2', info(1)],
    ],
  );
  assert.deepEqual(
    status.slice(1).map((s) => s.name),
    ['default/dev-a', 'default/dev-b'],
  );

  // What each delegate received from multinet (recorded before host-device ran).
  const adds = (await readFile(node.hostPath(RECORD), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Recorded)
    .filter((r) => r.command === 'ADD');
  const sandbox = adds[0]!.containerId;
  const cniFile = (nadName: string, ifName: string) =>
    `/var/run/k8s.cni.cncf.io/devinfo/cni/default-${nadName}-${sandbox}_${ifName}`;
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
      ['net1', 'host-device', 'dpv0', 'dpv0', 'dpv0', cniFile('dev-a', 'net1')],
      ['net2', 'host-device', 'dpv1', 'dpv1', 'dpv1', cniFile('dev-b', 'net2')],
      ['net2', 'bandwidth', 'dpv1', 'dpv1', undefined, undefined],
    ],
  );
  assert.deepEqual((await readdir(node.hostPath(`${DEVINFO}/cni`))).sort(), [
    `default-dev-a-${sandbox}_net1`,
    `default-dev-b-${sandbox}_net2`,
  ]);

  // Deleting the pod gives the links back to the node and removes the device-info files.
  await cluster.kubectl(['delete', 'pod', 'devpod', '--wait=false']);
  await waitGone(cluster, 'devpod');
  const back = await nodeLinks();
  assert.ok(
    back.includes('dpv0') && back.includes('dpv1'),
    `the devices are back on the node: ${back.join(' ')}`,
  );
  assert.deepEqual(await readdir(node.hostPath(`${DEVINFO}/cni`)), []);
  // DEL from the plan: the same devices, without asking the kubelet (docs/devices.md).
  const dels = (await readFile(node.hostPath(RECORD), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Recorded)
    .filter(
      (r) =>
        r.command === 'DEL' && r.containerId === sandbox && r.received['recordingDelegate'] === 'host-device',
    );
  assert.deepEqual(dels.map((r) => [r.ifName, r.received['deviceID']]).slice(0, 2), [
    ['net2', 'dpv1'],
    ['net1', 'dpv0'],
  ]);

  // Selecting the NAD without requesting the resource: refused by name, nothing attached.
  await cluster.kubectl(['apply', '-f', '-'], {
    input: JSON.stringify(pod('nodevpod', node.name, 'dev-a', 0)),
  });
  const failed = await waitUntil(
    "the kubelet's FailedCreatePodSandBox with DEVICE_NOT_ALLOCATED",
    async () => (await podEvents(cluster, 'nodevpod')).find((e) => e.reason === 'FailedCreatePodSandBox'),
    90_000,
  );
  t.diagnostic(`kubelet: ${failed.message}`);
  assert.match(failed.message, /DEVICE_NOT_ALLOCATED/);
  assert.match(failed.message, /network default\/dev-a/);
  assert.match(failed.message, /multinet\.test\/veth/);
  const warning = await waitUntil(
    "multinet's AddNetworkFailed event",
    async () => (await podEvents(cluster, 'nodevpod')).find((e) => e.reason === 'AddNetworkFailed'),
    30_000,
  );
  assert.equal(warning.type, 'Warning');
  assert.ok((await nodeLinks()).includes('dpv0'), 'the device stayed on the node');
  await cluster.kubectl(['delete', 'pod', 'nodevpod', '--wait=false']);
  await waitGone(cluster, 'nodevpod');

  // Nothing left once the test's own links are gone.
  for (const id of DEVICES) await node.exec(['ip', 'link', 'del', id]);
  assert.deepEqual(await nodeLeftovers(node), [], 'nothing left on the node');
  assert.deepEqual(await readdir(node.hostPath(`${DEVINFO}/cni`)), []);
}
