import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMultinetConfig } from '../config/multinet-config.ts';
import { emptyConfSource, FakeDelegateLists, MemoryPlanStore } from '../../test/support/fake-engine-deps.ts';
import { FakeClusterView } from '../../test/support/memory-cluster-view.ts';
import { parseNetworksAnnotation } from '../spec/parse-networks-annotation.ts';
import { parseNetworkStatus } from '../spec/network-status.ts';
import { silentLogger } from '../log/logger.ts';
import type { AttachmentPlan, PlannedAttachment } from './attachment-plan.ts';
import type { EngineDeps, PodNetworkRequest } from './engine-deps.ts';
import { runPodNetworkRequest } from './engine.ts';
import { diffSelections, hotplugInterfaceNames } from './hotplug-diff.ts';
import { hotplugPod } from './hotplug-pod.ts';
import { selectionKey } from './selection-key.ts';

const NETWORKS = 'k8s.v1.cni.cncf.io/networks';

const sel = (text: string) => parseNetworksAnnotation(text, 'ns1');

function att(network: string, ifName: string, selection?: string, extra: Partial<PlannedAttachment> = {}) {
  return {
    network,
    ifName,
    isDefault: ifName === 'eth0',
    configText: '{}',
    capabilityArgs: {},
    ...(selection ? { selection: selectionKey(sel(selection)[0]!) } : {}),
    ...extra,
  } satisfies PlannedAttachment;
}

function planOf(
  attachments: PlannedAttachment[],
  ifNames = attachments.map((a) => a.ifName),
): AttachmentPlan {
  return {
    pod: { namespace: 'ns1', name: 'pod-a', uid: 'uid-1' },
    containerId: 'c1',
    netns: '/run/netns/p1',
    cniArgs: [],
    attachments,
    ifNames,
  };
}

describe('selectionKey', () => {
  it('is the same for two spellings of one request and differs for any other value', () => {
    const text = selectionKey(sel('ns1/net-a@x')[0]!);
    const json = selectionKey(sel('[{"interface":"x","name":"net-a"}]')[0]!);
    assert.equal(text, json);
    assert.notEqual(text, selectionKey(sel('net-a')[0]!));
    assert.notEqual(
      selectionKey(sel('[{"name":"net-a","ips":["10.0.0.1/24"]}]')[0]!),
      selectionKey(sel('[{"name":"net-a","ips":["10.0.0.2/24"]}]')[0]!),
    );
  });
});

describe('diffSelections', () => {
  const plan = planOf([
    att('cluster', 'eth0'),
    att('ns1/conf', 'net1'), // a defaultNetworks attachment: not the annotation's
    att('ns1/net-a', 'net2', 'net-a'),
    att('ns1/net-b', 'net3', 'net-b'),
  ]);

  it('keeps what is still asked for, removes what is not, adds what is new, in order', () => {
    const d = diffSelections(plan, sel('net-b,net-c,net-a@x'));
    assert.deepEqual(
      d.keep.map((a) => a.ifName),
      ['net3'],
    );
    assert.deepEqual(
      d.remove.map((a) => a.ifName),
      ['net2'],
    );
    assert.deepEqual(
      d.add.map((a) => a.network),
      ['ns1/net-c', 'ns1/net-a'],
    );
  });

  it('never touches the default network or defaultNetworks attachments', () => {
    const d = diffSelections(plan, []);
    assert.deepEqual(
      d.remove.map((a) => a.ifName),
      ['net2', 'net3'],
    );
    assert.deepEqual(d.keep, []);
  });

  it('counts duplicates: a,a is two attachments', () => {
    const twice = planOf([
      att('cluster', 'eth0'),
      att('ns1/net-a', 'net1', 'net-a'),
      att('ns1/net-a', 'net2', 'net-a'),
    ]);
    assert.deepEqual(
      diffSelections(twice, sel('net-a')).remove.map((a) => a.ifName),
      ['net2'],
    );
    assert.deepEqual(diffSelections(twice, sel('net-a,net-a,net-a')).add.length, 1);
  });

  it('a pending attachment (a crash mid-plug) is removed and planned again', () => {
    const crashed = planOf([att('cluster', 'eth0'), att('ns1/net-a', 'net1', 'net-a', { pending: true })]);
    const d = diffSelections(crashed, sel('net-a'));
    assert.deepEqual(
      d.remove.map((a) => a.ifName),
      ['net1'],
    );
    assert.deepEqual(
      d.add.map((a) => a.network),
      ['ns1/net-a'],
    );
  });
});

describe('hotplugInterfaceNames', () => {
  const inUse = new Map([
    ['eth0', 'default network cluster'],
    ['net2', 'network ns1/net-b'],
  ]);
  const add = (text: string) => sel(text).map((s) => ({ selection: s, network: `${s.namespace}/${s.name}` }));

  it('generates the lowest net<N> the sandbox never had', () => {
    // net1 was in the pod once (detached since): never generated again.
    assert.deepEqual(hotplugInterfaceNames(['eth0', 'net1', 'net2'], inUse, add('net-c,net-d')), [
      { ifName: 'net3' },
      { ifName: 'net4' },
    ]);
  });

  it('gives a requested name, even one the pod had before, and skips names requested in the same edit', () => {
    assert.deepEqual(
      hotplugInterfaceNames(['eth0', 'net1', 'net2'], inUse, add('net-c,net-d@net3,net-e@net1')),
      [{ ifName: 'net4' }, { ifName: 'net3' }, { ifName: 'net1' }],
    );
  });

  it('refuses a requested name that an attachment has, naming it', () => {
    const [a, b] = hotplugInterfaceNames(['eth0', 'net2'], inUse, add('net-c@net2,net-d@x'));
    assert.deepEqual(a, {
      problem: 'interface name "net2" is already used by network ns1/net-b; request a different "interface"',
    });
    assert.deepEqual(b, { ifName: 'x' });
  });
});

const conf = (name: string) => ({ cniVersion: '1.0.0', name, type: 'bridge' });

function setup(annotation: string) {
  const cluster = new FakeClusterView();
  cluster.addPod({ namespace: 'ns1', name: 'pod-a', uid: 'uid-1', annotations: { [NETWORKS]: annotation } });
  cluster.addNad('kube-system', 'cluster-net', conf('cluster-net'));
  for (const n of ['net-a', 'net-b', 'net-c', 'net-d']) cluster.addNad('ns1', n, conf(n));
  const lists = new FakeDelegateLists();
  const plans = new MemoryPlanStore();
  const deps: EngineDeps = {
    config: parseMultinetConfig({
      clusterNetwork: 'cluster-net',
      cacheDir: '/nonexistent',
      podLookupTimeoutSeconds: 0.2,
    }).engine,
    cluster,
    confs: emptyConfSource(),
    lists,
    plans,
    routes: { setDefaultRoute: async () => {} },
    log: silentLogger,
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    now: () => Date.now(),
  };
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
    cniPath: [],
    cniVersion: '1.0.0',
    runtimeConfig: {},
  });
  /** The pod as the daemon's informer would hand it over after `kubectl annotate --overwrite`. */
  const edit = (value: string, more: Record<string, string> = {}) => {
    const pod = cluster.pods.get('ns1/pod-a')!;
    pod.annotations = { ...pod.annotations, [NETWORKS]: value, ...more };
    return structuredClone(pod);
  };
  const interfaces = async () => (await plans.get('c1'))!.attachments.map((a) => `${a.ifName}=${a.network}`);
  const lastStatus = () =>
    parseNetworkStatus(cluster.statusWrites.at(-1)!.json).map((e) => `${e.interface}=${e.name}`);
  return { cluster, lists, plans, deps, request, edit, interfaces, lastStatus };
}

describe('hotplugPod', () => {
  it('ADD records what hot-plug needs: the selection of each attachment and the names used', async () => {
    const s = setup('net-a,net-b@x');
    await runPodNetworkRequest(s.deps, s.request('ADD'));
    const plan = (await s.plans.get('c1'))!;
    assert.deepEqual(plan.ifNames, ['eth0', 'net1', 'x']);
    assert.equal(plan.attachments[0]!.selection, undefined);
    assert.equal(plan.attachments[2]!.selection, selectionKey(sel('net-b@x')[0]!));
  });

  it('attaches the added networks and detaches the removed ones, then writes status and Events', async () => {
    const s = setup('net-a,net-b');
    await runPodNetworkRequest(s.deps, s.request('ADD'));
    s.lists.calls = [];
    const out = await hotplugPod(s.deps, 'c1', s.edit('net-b,net-c'));
    assert.deepEqual(s.lists.lines(), ['DEL net-a net1', 'ADD net-c net3']);
    assert.deepEqual(out.added, [{ network: 'ns1/net-c', ifName: 'net3', ips: ['10.1.0.5'] }]);
    assert.deepEqual(out.removed, [{ network: 'ns1/net-a', ifName: 'net1' }]);
    assert.deepEqual(await s.interfaces(), [
      'eth0=kube-system/cluster-net',
      'net2=ns1/net-b',
      'net3=ns1/net-c',
    ]);
    assert.deepEqual(s.lastStatus(), ['eth0=kube-system/cluster-net', 'net2=ns1/net-b', 'net3=ns1/net-c']);
    assert.equal(s.cluster.statusWrites.at(-1)!.ready?.status, 'True');
    assert.deepEqual(
      s.cluster.events
        .filter((e) => e.reason !== 'AddedInterface' || e.message.includes('hot-plug'))
        .map((e) => e.message),
      ['Remove net1 from ns1/net-a', 'Add net3 [10.1.0.5] from ns1/net-c (hot-plug)'],
    );
    // net1 was in the pod: the next generated name is net4, not net1.
    await hotplugPod(s.deps, 'c1', s.edit('net-b,net-c,net-a'));
    assert.deepEqual(await s.interfaces(), [
      'eth0=kube-system/cluster-net',
      'net2=ns1/net-b',
      'net3=ns1/net-c',
      'net4=ns1/net-a',
    ]);
    assert.deepEqual((await s.plans.get('c1'))!.ifNames, ['eth0', 'net1', 'net2', 'net3', 'net4']);
  });

  it('an unchanged annotation runs nothing and writes nothing', async () => {
    const s = setup('net-a');
    await runPodNetworkRequest(s.deps, s.request('ADD'));
    s.lists.calls = [];
    const writes = s.cluster.statusWrites.length;
    // Another spelling of the same request.
    const out = await hotplugPod(s.deps, 'c1', s.edit('[{"name":"net-a","namespace":"ns1"}]'));
    assert.deepEqual(out, { added: [], removed: [], failed: [] });
    assert.deepEqual(s.lists.lines(), []);
    assert.equal(s.cluster.statusWrites.length, writes);
  });

  it('the plan lists a new attachment, as pending, before its delegates run', async () => {
    const s = setup('net-a');
    await runPodNetworkRequest(s.deps, s.request('ADD'));
    const seen: (PlannedAttachment | undefined)[] = [];
    const add = s.lists.add.bind(s.lists);
    s.lists.add = async (list, rt) => {
      seen.push((await s.plans.get('c1'))!.attachments.find((a) => a.ifName === rt.ifName));
      return add(list, rt);
    };
    await hotplugPod(s.deps, 'c1', s.edit('net-a,net-b'));
    assert.equal(seen[0]?.network, 'ns1/net-b');
    assert.equal(seen[0]?.pending, true);
    assert.equal((await s.plans.get('c1'))!.attachments[2]!.pending, undefined, 'not pending once attached');
  });

  it('the pod DEL removes hot-plugged attachments, and a pending one a crash left', async () => {
    const s = setup('net-a');
    await runPodNetworkRequest(s.deps, s.request('ADD'));
    await hotplugPod(s.deps, 'c1', s.edit('net-a,net-b'));
    const plan = (await s.plans.get('c1'))!;
    plan.attachments.push({
      ...att('ns1/net-c', 'net3', 'net-c'),
      configText: JSON.stringify(conf('net-c')),
      pending: true,
    });
    await s.plans.put(plan);
    s.lists.calls = [];
    await runPodNetworkRequest(s.deps, s.request('DEL'));
    assert.deepEqual(s.lists.lines(), [
      'DEL net-c net3',
      'DEL net-b net2',
      'DEL net-a net1',
      'DEL cluster-net eth0',
    ]);
    assert.equal(await s.plans.get('c1'), undefined);
  });

  it('a crash mid-plug: the next pass undoes the pending attachment and plugs it again', async () => {
    const s = setup('net-a');
    await runPodNetworkRequest(s.deps, s.request('ADD'));
    const plan = (await s.plans.get('c1'))!;
    plan.attachments.push({
      ...att('ns1/net-b', 'net2', 'net-b'),
      configText: JSON.stringify(conf('net-b')),
      pending: true,
    });
    plan.ifNames!.push('net2');
    await s.plans.put(plan);
    s.lists.calls = [];
    const out = await hotplugPod(s.deps, 'c1', s.edit('net-a,net-b'));
    assert.deepEqual(s.lists.lines(), ['DEL net-b net2', 'ADD net-b net3']);
    assert.deepEqual(out.removed, [], 'a pending attachment was never reported as attached');
    assert.deepEqual(await s.interfaces(), [
      'eth0=kube-system/cluster-net',
      'net1=ns1/net-a',
      'net3=ns1/net-b',
    ]);
  });

  it('a failed hot-plug undoes that attachment only and reports it in Events and NetworksReady', async () => {
    const s = setup('net-a');
    await runPodNetworkRequest(s.deps, s.request('ADD'));
    s.lists.calls = [];
    s.lists.failAdd.add('net-c');
    const out = await hotplugPod(s.deps, 'c1', s.edit('net-a,net-b,net-c,no-such-net'));
    assert.deepEqual(s.lists.lines(), ['ADD net-b net2', 'ADD net-c net3', 'DEL net-c net3']);
    assert.deepEqual(
      out.failed.map((f) => [f.network, f.ifName, f.error.split(':')[0]]),
      [
        ['ns1/net-c', 'net3', 'DELEGATE_FAILED'],
        ['ns1/no-such-net', 'net4', 'NETWORK_NOT_FOUND'],
      ],
    );
    assert.deepEqual(await s.interfaces(), [
      'eth0=kube-system/cluster-net',
      'net1=ns1/net-a',
      'net2=ns1/net-b',
    ]);
    assert.deepEqual(s.lastStatus(), ['eth0=kube-system/cluster-net', 'net1=ns1/net-a', 'net2=ns1/net-b']);
    const ready = s.cluster.statusWrites.at(-1)!.ready!;
    assert.equal(ready.status, 'False');
    assert.equal(ready.reason, 'HotplugFailed');
    assert.match(
      ready.message,
      /ns1\/no-such-net \(net4\): NETWORK_NOT_FOUND: NetworkAttachmentDefinition ns1\/no-such-net not found/,
    );
    const warnings = s.cluster.events.filter((e) => e.type === 'Warning').map((e) => e.message);
    assert.equal(warnings.length, 2);
    assert.match(
      warnings[0]!,
      /^hot-plug of ns1\/net-c \(net3\) failed: DELEGATE_FAILED: attaching net3 failed: net-c refused/,
    );
    // The edit is taken back: nothing to do, and NetworksReady is True again.
    s.lists.calls = [];
    await hotplugPod(s.deps, 'c1', s.edit('net-a,net-b'));
    assert.deepEqual(s.lists.lines(), []);
    assert.equal(s.cluster.pods.get('ns1/pod-a')!.networksReady?.status, 'True');
  });

  it('refuses an edit that would change the default network or take eth0: pod untouched', async () => {
    const s = setup('net-a');
    await runPodNetworkRequest(s.deps, s.request('ADD'));
    const before = await s.plans.get('c1');
    s.lists.calls = [];
    const statusWrites = s.cluster.statusWrites.length;
    const changed = await hotplugPod(
      s.deps,
      'c1',
      s.edit('net-b', { 'v1.multus-cni.io/default-network': 'ns1/net-c' }),
    );
    assert.match(
      changed.refused ?? '',
      /the default network \(kube-system\/cluster-net on eth0\) cannot be changed on a running pod/,
    );
    const eth0 = await hotplugPod(
      s.deps,
      'c1',
      s.edit('net-b@eth0', { 'v1.multus-cni.io/default-network': '' }),
    );
    assert.match(eth0.refused ?? '', /^INVALID_NETWORKS_ANNOTATION: .*eth0/);
    assert.deepEqual(s.lists.lines(), [], 'no delegate ran');
    assert.deepEqual(await s.plans.get('c1'), before);
    assert.equal(s.cluster.statusWrites.length, statusWrites, 'network-status untouched');
    assert.deepEqual(
      s.cluster.readyWrites.map((w) => [w.ready.status, w.ready.reason]),
      [
        ['False', 'HotplugRefused'],
        ['False', 'HotplugRefused'],
      ],
    );
    assert.deepEqual(
      s.cluster.events.filter((e) => e.type === 'Warning').map((e) => e.reason),
      ['HotplugRefused', 'HotplugRefused'],
    );
  });

  it('a detach whose DEL fails keeps the attachment in the plan and says so', async () => {
    const s = setup('net-a,net-b');
    await runPodNetworkRequest(s.deps, s.request('ADD'));
    s.lists.failDel.add('net-a');
    const out = await hotplugPod(s.deps, 'c1', s.edit('net-b'));
    assert.match(out.failed[0]?.error ?? '', /^DELEGATE_FAILED: detaching net1 failed: net-a DEL failed/);
    assert.deepEqual(await s.interfaces(), [
      'eth0=kube-system/cluster-net',
      'net1=ns1/net-a',
      'net2=ns1/net-b',
    ]);
  });

  it('leaves plans of other pods and of older multinets alone', async () => {
    const s = setup('net-a');
    await runPodNetworkRequest(s.deps, s.request('ADD'));
    const other = { ...s.edit('net-a,net-b'), uid: 'uid-2' };
    assert.match((await hotplugPod(s.deps, 'c1', other)).skipped ?? '', /earlier pod/);
    const plan = (await s.plans.get('c1'))!;
    delete plan.ifNames;
    await s.plans.put(plan);
    s.lists.calls = [];
    assert.match(
      (await hotplugPod(s.deps, 'c1', s.edit('net-a,net-b'))).skipped ?? '',
      /without hot-plug records/,
    );
    assert.deepEqual(s.lists.lines(), []);
  });
});
