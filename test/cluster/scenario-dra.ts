/**
 * DRA claims on the real cluster (issue 13, docs/devices.md#dra-claims). The TypeScript DRA
 * driver (test/support/dra-driver.ts) runs in this test process: it publishes node1's
 * ResourceSlice (two veth ends of node1's network namespace, with the `k8s.cni.cncf.io/
 * resourceName` and `deviceID` attributes of Multus's contract) and registers with node1's real
 * kubelet. A pod claims two devices through a ResourceClaimTemplate of a DeviceClass; the real
 * scheduler allocates them, the controller-manager creates the claim, the kubelet asks the
 * driver to prepare it. multinet reads the claim and the slice from its watch caches (no
 * PodResources call), gives each of the pod's two NADs of that resource one of the claim's
 * devices (`deviceID`, through the recording wrapper around the real host-device, named as
 * such), and writes both attachments into the claim's `status.devices[]` (KEP-4817 networkData:
 * interfaceName, hardwareAddress; a Ready condition). Deleting the pod gives the links back to
 * the node; the kubelet unprepares the claim; nothing is left.
 */
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import type { TestContext } from 'node:test';
import type { ExplainedAttachment } from '../../src/cli/explain-command.ts';
import { runCli } from '../../src/cli/run-cli.ts';
import { parseNetworkStatus } from '../../src/spec/network-status.ts';
import { NETWORK_STATUS_ANNOTATION } from '../../src/spec/well-known.ts';
import type { Cluster } from '../support/cluster.ts';
import { TOOLBOX_IMAGE } from '../support/cluster-images.ts';
import { TsDraDriver } from '../support/dra-driver.ts';
import type { IpLink } from '../support/netns.ts';
import {
  addVethDevices,
  getPod,
  installRecordingWrapper,
  nodeLeftovers,
  waitGone,
  waitRunning,
  waitUntil,
} from './cluster-checks.ts';

const DRIVER = 'dra.multinet.test';
const RESOURCE = 'dra.multinet.test/veth';
const DEVICES = ['drav0', 'drav1'];
const RECORD_DIR = '/var/lib/cni/recording-wrapper';
const RECORD = `${RECORD_DIR}/dra.jsonl`;

interface Recorded {
  command: string;
  containerId: string;
  ifName: string;
  received: Record<string, unknown> & { runtimeConfig?: Record<string, unknown> };
}

interface ClaimView {
  metadata: { name: string; uid: string };
  status?: {
    allocation?: {
      devices?: { results?: { request: string; driver: string; pool: string; device: string }[] };
    };
    devices?: {
      driver: string;
      pool: string;
      device: string;
      conditions?: { type: string; status: string; reason: string }[];
      networkData?: { interfaceName?: string; ips?: string[]; hardwareAddress?: string };
    }[];
  };
}

function nad(name: string): object {
  return {
    apiVersion: 'k8s.cni.cncf.io/v1',
    kind: 'NetworkAttachmentDefinition',
    metadata: { name, namespace: 'default', annotations: { 'k8s.v1.cni.cncf.io/resourceName': RESOURCE } },
    spec: {
      config: JSON.stringify({
        cniVersion: '1.0.0',
        type: 'recording-wrapper',
        recordingDelegate: 'host-device',
        recordingFile: RECORD,
        recordingDeviceIdAs: 'device',
        capabilities: { deviceID: true },
      }),
    },
  };
}

export async function runDraScenario(t: TestContext, cluster: Cluster): Promise<void> {
  const node = cluster.nodes[0]!;
  const nodeLinks = async () =>
    (JSON.parse(await node.exec(['ip', '-j', 'link'])) as IpLink[]).map((l) => l.ifname);
  const started: { driver?: TsDraDriver } = {};
  t.after(async () => {
    await cluster.kubectl(['delete', 'pod', 'drapod', '--ignore-not-found', '--wait=false']);
    await waitGone(cluster, 'drapod').catch(() => undefined);
    await cluster.kubectl([
      'delete',
      'network-attachment-definitions',
      'dra-a',
      'dra-b',
      '--ignore-not-found',
    ]);
    await cluster.kubectl(['delete', 'resourceclaimtemplate', 'two-veths', '--ignore-not-found']);
    await cluster.kubectl(['delete', 'deviceclass', 'multinet-veth', '--ignore-not-found']);
    await started.driver?.stop();
    for (const id of DEVICES) await node.exec(['ip', 'link', 'del', id]).catch(() => undefined);
    await rm(node.hostPath(RECORD), { force: true });
  });

  await addVethDevices(node, DEVICES);
  await installRecordingWrapper(node, RECORD_DIR);

  const driver = (started.driver = await TsDraDriver.start({
    driver: DRIVER,
    nodeName: node.name,
    registryDir: node.hostPath('/var/lib/kubelet/plugins_registry'),
    pluginsDir: { here: node.hostPath('/var/lib/kubelet/plugins'), kubelet: '/var/lib/kubelet/plugins' },
    devices: DEVICES.map((d) => ({ name: d, resourceName: RESOURCE, deviceId: d })),
    kubectl: (args, opts) => cluster.kubectl(args, opts),
  }));
  await waitUntil(
    `${node.name}'s kubelet registers ${DRIVER}`,
    async () => driver.registration?.pluginRegistered,
  );
  t.diagnostic(`kubelet called the driver: ${driver.rpcs.join(', ')}`);

  const objects = [
    {
      apiVersion: 'resource.k8s.io/v1',
      kind: 'DeviceClass',
      metadata: { name: 'multinet-veth' },
      spec: { selectors: [{ cel: { expression: `device.driver == "${DRIVER}"` } }] },
    },
    {
      apiVersion: 'resource.k8s.io/v1',
      kind: 'ResourceClaimTemplate',
      metadata: { name: 'two-veths', namespace: 'default' },
      spec: {
        spec: {
          devices: {
            requests: [{ name: 'nic', exactly: { deviceClassName: 'multinet-veth', count: 2 } }],
          },
        },
      },
    },
    nad('dra-a'),
    nad('dra-b'),
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'drapod',
        namespace: 'default',
        annotations: { 'k8s.v1.cni.cncf.io/networks': 'dra-a, dra-b' },
      },
      spec: {
        terminationGracePeriodSeconds: 1,
        resourceClaims: [{ name: 'nics', resourceClaimTemplateName: 'two-veths' }],
        containers: [{ name: 'toolbox', image: TOOLBOX_IMAGE, resources: { claims: [{ name: 'nics' }] } }],
      },
    },
  ];
  await cluster.kubectl(['apply', '-f', '-'], { input: objects.map((o) => JSON.stringify(o)).join('\n') });
  const running = await waitRunning(cluster, 'drapod', 'default', 120_000);
  assert.equal(running.spec.nodeName, node.name, 'the scheduler put the pod where the devices are');

  // The claim the controller-manager made from the template, allocated by the scheduler.
  const claimName = await waitUntil('the pod has its claim', async () => {
    const p = JSON.parse(await cluster.kubectl(['get', 'pod', 'drapod', '-o', 'json'])) as {
      status: { resourceClaimStatuses?: { resourceClaimName?: string }[] };
    };
    return p.status.resourceClaimStatuses?.[0]?.resourceClaimName;
  });
  const readClaim = async () =>
    JSON.parse(await cluster.kubectl(['get', 'resourceclaim', claimName, '-o', 'json'])) as ClaimView;
  const allocated = (await readClaim()).status?.allocation?.devices?.results ?? [];
  assert.deepEqual(allocated.map((r) => r.device).sort(), DEVICES, 'both devices allocated to the claim');
  assert.ok(
    driver.prepared.includes((await readClaim()).metadata.uid),
    'the kubelet had the driver prepare it',
  );

  // Each attachment got one of the claim's devices, in allocation order: net1 the first.
  const order = allocated.map((r) => r.device);
  for (const [i, ifName] of ['net1', 'net2'].entries()) {
    const alias = await cluster.kubectl(['exec', 'drapod', '--', 'cat', `/sys/class/net/${ifName}/ifalias`]);
    assert.equal(alias.trim(), order[i], `${ifName} is the node's ${order[i]}`);
  }
  const adds = (await readFile(node.hostPath(RECORD), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Recorded)
    .filter((r) => r.command === 'ADD');
  assert.deepEqual(
    adds.map((r) => [r.ifName, r.received['deviceID'], r.received.runtimeConfig?.['deviceID']]),
    [
      ['net1', order[0], order[0]],
      ['net2', order[1], order[1]],
    ],
    'what each delegate received (recording wrapper)',
  );
  const moved = await nodeLinks();
  assert.ok(
    !moved.includes('drav0') && !moved.includes('drav1'),
    `the devices left the node: ${moved.join(' ')}`,
  );

  // network-status as usual, and the attachments in the claim's status.devices (KEP-4817).
  const status = parseNetworkStatus(
    (await getPod(cluster, 'drapod')).metadata.annotations?.[NETWORK_STATUS_ANNOTATION] ?? '[]',
  );
  assert.deepEqual(status.map((s) => `${s.name}@${s.interface ?? ''}`).slice(1), [
    'default/dra-a@net1',
    'default/dra-b@net2',
  ]);
  const devices = await waitUntil('the attachments in the claim status', async () => {
    const d = (await readClaim()).status?.devices ?? [];
    return d.length === 2 ? d : undefined;
  });
  t.diagnostic(`claim status.devices: ${JSON.stringify(devices)}`);
  const macOf = (ifName: string) => status.find((s) => s.interface === ifName)?.mac;
  assert.deepEqual(
    devices
      .map((d) => [
        d.driver,
        d.pool,
        d.device,
        d.networkData?.interfaceName,
        d.networkData?.hardwareAddress,
        d.conditions?.map((c) => `${c.type}=${c.status}`),
      ])
      .sort((a, b) => String(a[3]).localeCompare(String(b[3]))),
    [
      [DRIVER, node.name, order[0], 'net1', macOf('net1'), ['Ready=True']],
      [DRIVER, node.name, order[1], 'net2', macOf('net2'), ['Ready=True']],
    ],
  );

  // `multinet explain` on the live pod names the same devices, read from the API server.
  let explained = '';
  const io = {
    stdout: (x: string) => (explained += x),
    stderr: (x: string) => (explained += x),
    env: {},
    isTty: false,
  };
  assert.equal(
    await runCli(['explain', 'default/drapod', '--kubeconfig', cluster.kubeconfig, '-o', 'json'], io),
    0,
    explained,
  );
  const explainedPlan = (JSON.parse(explained) as { attachments: ExplainedAttachment[] }).attachments;
  assert.deepEqual(
    explainedPlan.slice(1).map((a) => [a.interface, a.device?.id, a.device?.from]),
    order.map((device, i) => [
      `net${i + 1}`,
      device,
      `DRA claim default/${claimName}: ${DRIVER}/${node.name}/${device}`,
    ]),
    'explain shows the device each attachment got',
  );

  // Deleting the pod: links back on the node, the claim unprepared and gone, nothing left.
  const claimUid = (await readClaim()).metadata.uid;
  await cluster.kubectl(['delete', 'pod', 'drapod', '--wait=false']);
  await waitGone(cluster, 'drapod');
  const back = await nodeLinks();
  assert.ok(back.includes('drav0') && back.includes('drav1'), `the devices are back: ${back.join(' ')}`);
  await waitUntil('the kubelet unprepares the claim', async () => driver.unprepared.includes(claimUid));
  for (const id of DEVICES) await node.exec(['ip', 'link', 'del', id]);
  assert.deepEqual(await nodeLeftovers(node), [], 'nothing left on the node');
}
