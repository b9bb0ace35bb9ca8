import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMultinetConfig } from '../config/multinet-config.ts';
import {
  emptyConfSource,
  FakeDelegateLists,
  FakePodResources,
  MemoryDeviceInfoFiles,
  MemoryPlanStore,
} from '../../test/support/fake-engine-deps.ts';
import { FakeClusterView } from '../../test/support/memory-cluster-view.ts';
import type { EngineDeps, PodNetworkRequest } from './engine-deps.ts';
import { EngineError } from './engine-error.ts';
import { runPodNetworkRequest } from './engine.ts';
import { toCniError } from './to-cni-error.ts';
import type { Logger } from '../log/logger.ts';
import { silentLogger } from '../log/logger.ts';
import { PodResourcesError } from '../k8s/pod-resources.ts';
import { injectDeviceId } from './assign-devices.ts';
import { rebuildNetworkStatus } from './attachment-status.ts';
import type { NetworkConfigList } from '../cni/network-config.ts';
import type { RuntimeConf } from '../cni/network-list-runner.ts';
import { DraDeviceIndex } from '../k8s/dra.ts';
import type { CachedClaim, CachedSlice, ClaimDeviceStatus, ClaimStatusWriter } from '../k8s/dra.ts';

const NIC = 'vendor.example/nic';
const RES = { 'k8s.v1.cni.cncf.io/resourceName': NIC };
const DEVINFO_DIR = '/run/test-devinfo';

function setup(annotation: string, devices: Record<string, string[]> = {}, extraConfig = {}) {
  const cluster = new FakeClusterView();
  cluster.addPod({
    namespace: 'ns1',
    name: 'pod-a',
    uid: 'uid-1',
    annotations: { 'k8s.v1.cni.cncf.io/networks': annotation },
  });
  cluster.addNad('kube-system', 'cluster-net', { cniVersion: '1.0.0', name: 'cluster-net', type: 'bridge' });
  // A single config (device ID at its top), a list (in every plugin), and a network without a resource.
  cluster.addNad('ns1', 'sriov-a', { cniVersion: '1.0.0', type: 'sriov', vlan: 5 }, RES);
  cluster.addNad(
    'ns1',
    'sriov-list',
    {
      cniVersion: '1.0.0',
      plugins: [
        { type: 'host-device', capabilities: { deviceID: true, CNIDeviceInfoFile: true } },
        { type: 'tuning', mtu: 9000 },
      ],
    },
    RES,
  );
  cluster.addNad('ns1', 'plain', { cniVersion: '1.0.0', type: 'macvlan', master: 'eth1' });
  cluster.addNad('ns1', 'userspace', {
    cniVersion: '1.0.0',
    type: 'userspace',
    capabilities: { CNIDeviceInfoFile: true },
  });
  const lists = new FakeDelegateLists();
  const plans = new MemoryPlanStore();
  const podResources = new FakePodResources(devices);
  const deviceInfo = new MemoryDeviceInfoFiles();
  const warnings: string[] = [];
  const log: Logger = { ...silentLogger, warn: (_o, msg) => void warnings.push(msg) };
  const deps: EngineDeps = {
    config: parseMultinetConfig({
      clusterNetwork: 'cluster-net',
      cacheDir: '/nonexistent',
      podLookupTimeoutSeconds: 0.2,
      deviceInfoDir: DEVINFO_DIR,
      ...extraConfig,
    }).engine,
    cluster,
    confs: emptyConfSource(),
    lists,
    plans,
    routes: { setDefaultRoute: async () => {} },
    podResources,
    deviceInfo,
    log,
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    now: () => Date.now(),
  };
  return { cluster, lists, plans, podResources, deviceInfo, deps, warnings };
}

const request = (command: PodNetworkRequest['command']): PodNetworkRequest => ({
  command,
  containerId: 'c1',
  netns: '/run/netns/p1',
  ifName: 'eth0',
  cniArgs: [
    ['K8S_POD_NAMESPACE', 'ns1'],
    ['K8S_POD_NAME', 'pod-a'],
    ['K8S_POD_UID', 'uid-1'],
  ],
  cniPath: ['/usr/lib/cni'],
  cniVersion: '1.0.0',
  runtimeConfig: {},
});

const adds = (lists: FakeDelegateLists) => lists.calls.filter((c) => c.command === 'ADD');

describe('device-plugin resources', () => {
  it('gives two attachments of one resource two devices, in sorted order, with one PodResources call', async () => {
    const { deps, lists, plans, podResources } = setup('sriov-a, sriov-list', {
      [NIC]: ['0000:18:02.5', '0000:18:02.2'],
    });
    await runPodNetworkRequest(deps, request('ADD'));
    assert.deepEqual(podResources.asked, [{ namespace: 'ns1', name: 'pod-a' }]);
    const [, a, list] = adds(lists);
    // Multus's contract: deviceID and pciBusID at the top of a single config...
    const single = (a!.config['plugins'] as Record<string, unknown>[])[0]!;
    assert.equal(single['deviceID'], '0000:18:02.2');
    assert.equal(single['pciBusID'], '0000:18:02.2');
    assert.equal(single['vlan'], 5, 'the rest of the raw config is kept');
    // ...and in every plugin of a list.
    const plugins = list!.config['plugins'] as Record<string, unknown>[];
    assert.deepEqual(
      plugins.map((p) => [p['type'], p['deviceID'], p['pciBusID']]),
      [
        ['host-device', '0000:18:02.5', '0000:18:02.5'],
        ['tuning', '0000:18:02.5', '0000:18:02.5'],
      ],
    );
    // The runtimeConfig capability args (libcni hands each plugin only what it declares).
    const file = `${DEVINFO_DIR}/cni/ns1-sriov-list-c1_net2`;
    assert.deepEqual(list!.capabilityArgs, { deviceID: '0000:18:02.5', CNIDeviceInfoFile: file });
    assert.deepEqual(a!.capabilityArgs, {
      deviceID: '0000:18:02.2',
      CNIDeviceInfoFile: `${DEVINFO_DIR}/cni/ns1-sriov-a-c1_net1`,
    });
    // The plan keeps the devices: DEL needs no kubelet.
    const plan = (await plans.get('c1'))!;
    assert.deepEqual(
      plan.attachments.map((x) => [x.network, x.resourceName, x.deviceId, x.deviceInfoFile]),
      [
        ['kube-system/cluster-net', undefined, undefined, undefined],
        ['ns1/sriov-a', NIC, '0000:18:02.2', `${DEVINFO_DIR}/cni/ns1-sriov-a-c1_net1`],
        ['ns1/sriov-list', NIC, '0000:18:02.5', file],
      ],
    );
  });

  it('asks the kubelet nothing when no selected NAD names a resource', async () => {
    const { deps, podResources, deviceInfo } = setup('plain');
    await runPodNetworkRequest(deps, request('ADD'));
    await runPodNetworkRequest(deps, request('DEL'));
    assert.equal(podResources.asked.length, 0);
    assert.deepEqual(deviceInfo.log, [], 'no device-info file either');
  });

  it('DEL runs from the plan: no PodResources call, the same device, the device-info files removed', async () => {
    const { deps, lists, podResources, deviceInfo } = setup('sriov-a, sriov-list', { [NIC]: ['d1', 'd2'] });
    await runPodNetworkRequest(deps, request('ADD'));
    lists.calls.length = 0;
    deviceInfo.log.length = 0;
    podResources.fail = new Error('the kubelet must not be asked at DEL');
    await runPodNetworkRequest(deps, request('DEL'));
    assert.equal(podResources.asked.length, 1, 'only the ADD asked');
    const dels = lists.calls.filter((c) => c.command === 'DEL');
    assert.deepEqual(
      dels.map((c) => [c.network, (c.config['plugins'] as { deviceID?: string }[])[0]!.deviceID]),
      [
        ['sriov-list', 'd2'],
        ['sriov-a', 'd1'],
        ['cluster-net', undefined],
      ],
    );
    assert.deepEqual(deviceInfo.log, [
      `remove ${DEVINFO_DIR}/cni/ns1-sriov-list-c1_net2`,
      `remove ${DEVINFO_DIR}/cni/ns1-sriov-a-c1_net1`,
    ]);
  });

  it('a pod without the resource allocated fails naming the resource and the network; nothing attached', async () => {
    const { deps, lists, plans, cluster } = setup('plain, sriov-a', { 'other.example/x': ['x1'] });
    await assert.rejects(runPodNetworkRequest(deps, request('ADD')), (err: unknown) => {
      assert.ok(err instanceof EngineError);
      assert.equal(err.code, 'DEVICE_NOT_ALLOCATED');
      assert.equal(err.network, 'ns1/sriov-a');
      const cni = toCniError(err);
      assert.equal(cni.code, 7);
      assert.match(cni.msg, /DEVICE_NOT_ALLOCATED/);
      assert.match(cni.details ?? '', /pod ns1\/pod-a, network ns1\/sriov-a/);
      assert.match(cni.details ?? '', /resource "vendor\.example\/nic"/);
      assert.match(cni.details ?? '', /allocated no device of it/);
      assert.match(cni.details ?? '', /resources\.limits \("vendor\.example\/nic": "1"\)/);
      return true;
    });
    assert.deepEqual(lists.calls, [], 'no delegate ran');
    assert.deepEqual(await plans.list(), []);
    assert.deepEqual(
      cluster.events.map((e) => [e.reason, /DEVICE_NOT_ALLOCATED/.test(e.message)]),
      [['AddNetworkFailed', true]],
    );
  });

  it('two networks of one resource and one device: fails before anything is attached', async () => {
    const { deps, lists } = setup('sriov-a, sriov-list', { [NIC]: ['d1'] });
    await assert.rejects(runPodNetworkRequest(deps, request('ADD')), (err: unknown) => {
      assert.ok(err instanceof EngineError);
      assert.equal(err.code, 'DEVICE_NOT_ALLOCATED');
      assert.equal(err.network, 'ns1/sriov-list');
      assert.match(
        err.message,
        /selects 2 networks of resource "vendor\.example\/nic" \(ns1\/sriov-a, ns1\/sriov-list\)/,
      );
      assert.match(err.message, /allocated 1 \(d1\)/);
      assert.match(err.message, /"vendor\.example\/nic": "2"/);
      return true;
    });
    assert.deepEqual(lists.calls, []);
  });

  it('a PodResources failure is DEVICE_LOOKUP_FAILED, try again later (11)', async () => {
    const { deps, lists, podResources } = setup('sriov-a', { [NIC]: ['d1'] });
    podResources.fail = new PodResourcesError(
      'cannot reach /var/lib/kubelet/pod-resources/kubelet.sock: ENOENT',
    );
    await assert.rejects(runPodNetworkRequest(deps, request('ADD')), (err: unknown) => {
      assert.ok(err instanceof EngineError);
      assert.equal(err.code, 'DEVICE_LOOKUP_FAILED');
      assert.equal(toCniError(err).code, 11);
      assert.match(err.message, /kubelet\.sock: ENOENT/);
      return true;
    });
    assert.deepEqual(lists.calls, []);
  });

  it("network-status carries each attachment's device-info; a delegate's own file counts too", async () => {
    const { deps, cluster, deviceInfo } = setup('sriov-a, userspace', { [NIC]: ['d1'] });
    const pci = { type: 'pci' as const, version: '1.1.0', pci: { 'pci-address': '0000:18:02.5' } };
    deviceInfo.plugin.set(`${NIC}|d1`, pci);
    // The userspace delegate writes its file itself (device-info spec §5.1.2): play it.
    const vhost = {
      type: 'vhost-user' as const,
      version: '1.1.0',
      'vhost-user': { mode: 'server', path: '/run/v.sock' },
    };
    const lists = deps.lists as FakeDelegateLists;
    const add = lists.add.bind(lists);
    lists.add = async (list: NetworkConfigList, rt: RuntimeConf) => {
      const r = await add(list, rt);
      if (list.name === 'userspace')
        deviceInfo.files.set(rt.capabilityArgs['CNIDeviceInfoFile'] as string, vhost);
      return r;
    };
    await runPodNetworkRequest(deps, request('ADD'));
    const status = JSON.parse(cluster.statusWrites[0]!.json) as { name: string; 'device-info'?: unknown }[];
    assert.deepEqual(
      status.map((s) => [s.name, s['device-info']]),
      [
        ['kube-system/cluster-net', undefined],
        ['ns1/sriov-a', pci],
        ['ns1/userspace', vhost],
      ],
    );
    assert.deepEqual(deviceInfo.log.slice(0, 2), [
      `prepare ${DEVINFO_DIR}/cni/ns1-sriov-a-c1_net1 ${NIC} d1`,
      `read ${DEVINFO_DIR}/cni/ns1-sriov-a-c1_net1`,
    ]);
  });

  it("a status rebuilt later (the daemon's continuous CHECK) keeps each attachment's device-info", async () => {
    const { deps, plans, deviceInfo } = setup('sriov-a', { [NIC]: ['d1'] });
    const pci = { type: 'pci' as const, version: '1.1.0', pci: { 'pci-address': '0000:18:02.5' } };
    deviceInfo.plugin.set(`${NIC}|d1`, pci);
    await runPodNetworkRequest(deps, request('ADD'));
    const rebuilt = await rebuildNetworkStatus(deps, (await plans.get('c1'))!, new Map());
    assert.deepEqual(
      rebuilt.map((s) => [s.name, s['device-info']]),
      [
        ['kube-system/cluster-net', undefined],
        ['ns1/sriov-a', pci],
      ],
    );
  });

  it('a device-info file that cannot be read is logged and left out of network-status', async () => {
    const { deps, cluster, deviceInfo, warnings } = setup('sriov-a', { [NIC]: ['d1'] });
    deviceInfo.read = async () => {
      throw new Error('device-info file x: key "type": must be one of pci, vdpa, vhost-user, memif');
    };
    await runPodNetworkRequest(deps, request('ADD'));
    const status = JSON.parse(cluster.statusWrites[0]!.json) as Record<string, unknown>[];
    assert.equal(status[1]!['device-info'], undefined);
    assert.ok(warnings.includes('device-info left out of network-status'));
  });

  it('a device-info directory multinet cannot use fails ADD with DEVICE_INFO_FAILED (5) and undoes the rest', async () => {
    const { deps, lists, plans } = setup('plain, sriov-a', { [NIC]: ['d1'] });
    (deps.deviceInfo as MemoryDeviceInfoFiles).prepare = async () => {
      throw new Error('/run/test-devinfo/cni is writable by group or others (mode 777): refusing to use it');
    };
    await assert.rejects(runPodNetworkRequest(deps, request('ADD')), (err: unknown) => {
      assert.ok(err instanceof EngineError);
      assert.equal(err.code, 'DEVICE_INFO_FAILED');
      assert.equal(toCniError(err).code, 5);
      return true;
    });
    assert.deepEqual(lists.lines(), [
      'ADD cluster-net eth0',
      'ADD plain net1',
      'DEL plain net1',
      'DEL cluster-net eth0',
    ]);
    assert.deepEqual(await plans.list(), []);
  });

  it('the device is injected after the tenant policy: an untrusted namespace may use a NAD naming a resource', async () => {
    const policy = { trustedNamespaces: ['kube-system'], allowedTypes: ['sriov', 'bridge'], rules: [] };
    const { deps, lists } = setup('sriov-a', { [NIC]: ['d1'] }, { tenantPolicy: policy });
    await runPodNetworkRequest(deps, request('ADD'));
    assert.equal((adds(lists)[1]!.config['plugins'] as Record<string, unknown>[])[0]!['deviceID'], 'd1');
    // A tenant naming a device itself is still refused.
    (deps.cluster as FakeClusterView).addNad(
      'ns1',
      'sriov-a',
      { cniVersion: '1.0.0', type: 'sriov', deviceID: 'd9' },
      RES,
    );
    await assert.rejects(
      runPodNetworkRequest(deps, { ...request('ADD'), containerId: 'c2' }),
      /TENANT_POLICY_FORBIDDEN|tenant policy refuses/,
    );
  });

  it('a malformed resourceName annotation is INVALID_NETWORK_CONFIG naming the annotation', async () => {
    const { deps, cluster, podResources } = setup('bad');
    cluster.addNad(
      'ns1',
      'bad',
      { cniVersion: '1.0.0', type: 'sriov' },
      { 'k8s.v1.cni.cncf.io/resourceName': '../../etc' },
    );
    await assert.rejects(runPodNetworkRequest(deps, request('ADD')), (err: unknown) => {
      assert.ok(err instanceof EngineError);
      assert.equal(err.code, 'INVALID_NETWORK_CONFIG');
      assert.match(
        err.message,
        /k8s\.v1\.cni\.cncf\.io\/resourceName "\.\.\/\.\.\/etc" must be a device-plugin resource name/,
      );
      return true;
    });
    assert.equal(podResources.asked.length, 0);
  });

  it('a call naming no pod cannot get a device (code 7)', async () => {
    const { deps } = setup('sriov-a', { [NIC]: ['d1'] }, { defaultNetworks: ['ns1/sriov-a'] });
    await assert.rejects(
      runPodNetworkRequest(deps, { ...request('ADD'), cniArgs: [] }),
      (err: unknown) =>
        err instanceof EngineError && err.code === 'DEVICE_LOOKUP_FAILED' && toCniError(err).code === 7,
    );
  });
});

describe('injectDeviceId', () => {
  it('keeps every other field of the raw JSON, unknown ones included', () => {
    const text = JSON.stringify({
      cniVersion: '1.0.0',
      type: 'x',
      custom: { deep: [1, 2] },
      pciBusID: 'old',
    });
    assert.deepEqual(JSON.parse(injectDeviceId(text, 'id1')), {
      cniVersion: '1.0.0',
      type: 'x',
      custom: { deep: [1, 2] },
      pciBusID: 'id1',
      deviceID: 'id1',
    });
  });
});

/** FAKE claim status writer: records each server-side apply (the API server's side is in test/cluster). */
class RecordingClaimStatus implements ClaimStatusWriter {
  applied: { claim: string; manager: string; devices: ClaimDeviceStatus[] }[] = [];
  fail: Error | undefined;
  async apply(
    claim: { namespace: string; name: string },
    manager: string,
    devices: readonly ClaimDeviceStatus[],
  ): Promise<void> {
    this.applied.push({ claim: `${claim.namespace}/${claim.name}`, manager, devices: [...devices] });
    if (this.fail) throw this.fail;
  }
}

describe('DRA claims (docs/devices.md#dra-claims)', () => {
  const slice: CachedSlice = {
    name: 'node1-net',
    driver: 'net.example.com',
    pool: 'node1',
    devices: [
      { name: 'vf-1', resourceName: NIC, deviceId: '0000:18:02.1' },
      { name: 'vf-0', resourceName: NIC, deviceId: '0000:18:02.0' },
      // No contract attributes: a GPU in the same claim is not a network device.
      { name: 'gpu-0' },
    ],
  };
  const claim = (allocated: boolean): CachedClaim => ({
    namespace: 'ns1',
    name: 'pod-a-nics',
    uid: 'claim-uid',
    results: allocated
      ? ['vf-1', 'vf-0', 'gpu-0'].map((device) => ({
          request: 'nic',
          driver: 'net.example.com',
          pool: 'node1',
          device,
        }))
      : undefined,
  });

  function draSetup(opts: { cached?: CachedClaim; live?: CachedClaim; enabled?: boolean } = {}) {
    const s = setup('sriov-a, sriov-list');
    s.cluster.addPod({
      namespace: 'ns1',
      name: 'pod-a',
      uid: 'uid-1',
      annotations: { 'k8s.v1.cni.cncf.io/networks': 'sriov-a, sriov-list' },
      resourceClaims: ['pod-a-nics'],
    });
    const liveReads: string[] = [];
    const claimStatus = new RecordingClaimStatus();
    s.deps.draDevices = new DraDeviceIndex({
      enabled: () => opts.enabled ?? true,
      claim: (ns, name) =>
        'cached' in opts ? opts.cached : ns === 'ns1' && name === 'pod-a-nics' ? claim(true) : undefined,
      slices: () => [slice],
      liveClaim: async (ns, name) => {
        liveReads.push(`${ns}/${name}`);
        return opts.live;
      },
    });
    s.deps.claimStatus = claimStatus;
    return { ...s, liveReads, claimStatus };
  }

  it("gives each attachment a device of the pod's claim, in allocation order, without asking the kubelet", async () => {
    const { deps, lists, plans, podResources, claimStatus } = draSetup();
    await runPodNetworkRequest(deps, request('ADD'));
    assert.deepEqual(podResources.asked, [], 'the claims covered both attachments');
    const [, a, list] = adds(lists);
    assert.equal((a!.config['plugins'] as Record<string, unknown>[])[0]!['deviceID'], '0000:18:02.1');
    assert.equal((list!.config['plugins'] as Record<string, unknown>[])[0]!['deviceID'], '0000:18:02.0');
    const plan = (await plans.get('c1'))!;
    assert.deepEqual(
      plan.attachments.map((x) => [x.network, x.deviceId, x.draDevice?.device]),
      [
        ['kube-system/cluster-net', undefined, undefined],
        ['ns1/sriov-a', '0000:18:02.1', 'vf-1'],
        ['ns1/sriov-list', '0000:18:02.0', 'vf-0'],
      ],
    );
    // One apply for the claim, under the pod's own field manager, with KEP-4817 networkData.
    assert.deepEqual(claimStatus.applied, [
      {
        claim: 'ns1/pod-a-nics',
        manager: 'multinet/uid-1',
        devices: [
          {
            driver: 'net.example.com',
            pool: 'node1',
            device: 'vf-1',
            interfaceName: 'net1',
            ips: ['10.1.0.5/24'],
            hardwareAddress: '02:00:00:00:00:01',
            network: 'ns1/sriov-a',
          },
          {
            driver: 'net.example.com',
            pool: 'node1',
            device: 'vf-0',
            interfaceName: 'net2',
            ips: ['10.1.0.5/24'],
            hardwareAddress: '02:00:00:00:00:01',
            network: 'ns1/sriov-list',
          },
        ],
      },
    ]);
    // DEL takes the pod's entries back (an empty apply of the same manager), from the plan.
    deps.draDevices = undefined;
    await runPodNetworkRequest(deps, request('DEL'));
    assert.deepEqual(claimStatus.applied.at(-1), {
      claim: 'ns1/pod-a-nics',
      manager: 'multinet/uid-1',
      devices: [],
    });
  });

  it('reads a claim live once when the cache does not hold it allocated yet', async () => {
    const { deps, liveReads, podResources } = draSetup({ cached: claim(false), live: claim(true) });
    await runPodNetworkRequest(deps, request('ADD'));
    assert.deepEqual(liveReads, ['ns1/pod-a-nics']);
    assert.deepEqual(podResources.asked, []);
  });

  it('an unallocated claim fails the ADD naming the claim; nothing attached', async () => {
    const { deps, lists, plans } = draSetup({ cached: claim(false), live: claim(false) });
    await assert.rejects(runPodNetworkRequest(deps, request('ADD')), (err: unknown) => {
      assert.ok(err instanceof EngineError);
      assert.equal(err.code, 'DEVICE_LOOKUP_FAILED');
      assert.match(err.message, /ResourceClaim ns1\/pod-a-nics is not allocated/);
      assert.match(err.message, /network ns1\/sriov-a/);
      return true;
    });
    assert.deepEqual(lists.calls, []);
    assert.deepEqual(await plans.list(), []);
  });

  it('with the DRA caches off, the kubelet is asked as before', async () => {
    const { deps, podResources, claimStatus } = draSetup({ enabled: false });
    podResources.devices = { [NIC]: ['d1', 'd2'] };
    await runPodNetworkRequest(deps, request('ADD'));
    assert.deepEqual(podResources.asked, [{ namespace: 'ns1', name: 'pod-a' }]);
    assert.deepEqual(claimStatus.applied, [], 'no DRA device, no claim write');
  });

  it('a failed claim write leaves the pod attached and says so in a Warning Event', async () => {
    const { deps, cluster, claimStatus, plans } = draSetup();
    claimStatus.fail = new Error('403 Forbidden');
    await runPodNetworkRequest(deps, request('ADD'));
    assert.ok(await plans.get('c1'), 'attached');
    const ev = cluster.events.find((e) => e.reason === 'ClaimStatusFailed');
    assert.ok(ev, 'a ClaimStatusFailed event');
    assert.equal(ev.type, 'Warning');
    assert.match(
      ev.message,
      /net1, net2 into status\.devices of ResourceClaim ns1\/pod-a-nics: 403 Forbidden/,
    );
  });
});
