import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMultinetConfig } from '../config/multinet-config.ts';
import { emptyConfSource, FakeDelegateLists, MemoryPlanStore } from '../../test/support/fake-engine-deps.ts';
import { FakeClusterView } from '../../test/support/memory-cluster-view.ts';
import type { EngineDeps, PodNetworkRequest } from '../engine/engine-deps.ts';
import { runPodNetworkRequest } from '../engine/engine.ts';
import type { PodInfo } from '../k8s/cluster-view.ts';
import { silentLogger } from '../log/logger.ts';
import { ConcurrencyLimiter } from './concurrency-limiter.ts';
import { ContainerLocks } from './container-locks.ts';
import { HotplugController } from './hotplug-controller.ts';
import { RequestAborts } from './request-aborts.ts';

const NETWORKS = 'k8s.v1.cni.cncf.io/networks';
const ARGS = 'K8S_POD_NAMESPACE=ns1;K8S_POD_NAME=pod-a;K8S_POD_UID=uid-1';

async function setup(annotation: string) {
  const cluster = new FakeClusterView();
  cluster.addPod({ namespace: 'ns1', name: 'pod-a', uid: 'uid-1', annotations: { [NETWORKS]: annotation } });
  cluster.addNad('kube-system', 'cluster-net', { cniVersion: '1.0.0', name: 'cluster-net', type: 'bridge' });
  for (const n of ['net-a', 'net-b', 'net-c', 'net-d'])
    cluster.addNad('ns1', n, { cniVersion: '1.0.0', name: n, type: 'bridge' });
  const lists = new FakeDelegateLists();
  const plans = new MemoryPlanStore();
  const deps: EngineDeps = {
    config: parseMultinetConfig({ clusterNetwork: 'cluster-net', cacheDir: '/nonexistent' }).engine,
    cluster,
    confs: emptyConfSource(),
    lists,
    plans,
    routes: { setDefaultRoute: async () => {} },
    log: silentLogger,
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    now: () => Date.now(),
  };
  const locks = new ContainerLocks();
  const passes: string[] = [];
  let active = 0;
  let maxActive = 0;
  const aborts = new RequestAborts();
  const controller = new HotplugController({
    deps: () => deps,
    locks,
    limiter: new ConcurrencyLimiter(4, 16, 10_000),
    cachedPod: (ns, name) => cluster.pods.get(`${ns}/${name}`),
    begin: () => {
      active++;
      maxActive = Math.max(maxActive, active);
      const r = aborts.begin();
      return { signal: r.signal, end: () => (active--, r.end()) };
    },
    draining: () => false,
    log: silentLogger,
    onPass: (pod, id, outcome) =>
      passes.push(
        `${pod.annotations[NETWORKS]} +${outcome.added.map((a) => a.ifName).join(',')} -${outcome.removed.map((a) => a.ifName).join(',')}`,
      ),
  });
  const stop = new AbortController();
  const started = controller.start(stop.signal);
  await controller.ready();
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
  /** What the pod cache would report after `kubectl annotate --overwrite`. */
  const edit = (value: string): PodInfo => {
    const pod = cluster.pods.get('ns1/pod-a')!;
    pod.annotations = { ...pod.annotations, [NETWORKS]: value };
    return structuredClone(pod);
  };
  const interfaces = async () => (await plans.get('c1'))?.attachments.map((a) => `${a.ifName}=${a.network}`);
  const close = async () => {
    stop.abort();
    await started;
  };
  return {
    cluster,
    lists,
    plans,
    deps,
    locks,
    controller,
    passes,
    request,
    edit,
    interfaces,
    close,
    maxActive: () => maxActive,
  };
}

describe('HotplugController', () => {
  it('applies edits of one pod one at a time, in order, ending with the last', async () => {
    const s = await setup('net-a');
    await runPodNetworkRequest(s.deps, s.request('ADD'));
    await s.controller.containerDone('c1', ARGS);
    await s.controller.whenIdle();
    s.passes.length = 0;
    s.lists.addDelayMs = 20;
    s.lists.calls = [];
    s.controller.podChanged(s.edit('net-a,net-b'), false);
    // Two more edits while the first one's delegate runs.
    while (!s.lists.lines().includes('ADD net-b net2')) await new Promise((r) => setImmediate(r));
    s.controller.podChanged(s.edit('net-a,net-b,net-c'), false);
    s.controller.podChanged(s.edit('net-c'), false);
    await s.controller.whenIdle();
    assert.equal(s.maxActive(), 1, 'never two passes of one pod at once');
    // The two that came during the first pass were folded into the newest, applied after it.
    assert.deepEqual(s.passes, ['net-a,net-b +net2 -', 'net-c +net3 -net2,net1']);
    assert.deepEqual(s.lists.lines(), [
      'ADD net-b net2',
      'DEL net-b net2',
      'DEL net-a net1',
      'ADD net-c net3',
    ]);
    assert.deepEqual(await s.interfaces(), ['eth0=kube-system/cluster-net', 'net3=ns1/net-c']);
    await s.close();
  });

  it('an unchanged annotation (status writes, re-lists) queues no pass', async () => {
    const s = await setup('net-a');
    await runPodNetworkRequest(s.deps, s.request('ADD'));
    await s.controller.containerDone('c1', ARGS);
    await s.controller.whenIdle();
    const n = s.passes.length;
    const pod = structuredClone(s.cluster.pods.get('ns1/pod-a')!);
    s.controller.podChanged({ ...pod, networksReady: { status: 'True', reason: 'x', message: 'y' } }, false);
    s.controller.podChanged(pod, false);
    await s.controller.whenIdle();
    assert.equal(s.passes.length, n);
    await s.close();
  });

  it('an edit during the sandbox ADD waits for it, then applies against the plan ADD wrote', async () => {
    const s = await setup('net-a');
    s.lists.addDelayMs = 30;
    // The daemon's CNI handler holds the container's lock for the whole ADD.
    const unlock = await s.locks.acquire('c1');
    const add = runPodNetworkRequest(s.deps, s.request('ADD'));
    // The edit arrives once ADD has resolved the old annotation and written its plan.
    while (!(await s.plans.get('c1'))) await new Promise((r) => setImmediate(r));
    s.controller.podChanged(s.edit('net-a,net-b'), false);
    await s.controller.whenIdle();
    assert.deepEqual(s.passes, [], 'nothing ran beside the ADD');
    await add;
    unlock();
    await s.controller.containerDone('c1', ARGS);
    await s.controller.whenIdle();
    assert.deepEqual(s.passes, ['net-a,net-b +net2 -']);
    assert.deepEqual(s.lists.lines(), ['ADD cluster-net eth0', 'ADD net-a net1', 'ADD net-b net2']);
    assert.deepEqual(await s.interfaces(), [
      'eth0=kube-system/cluster-net',
      'net1=ns1/net-a',
      'net2=ns1/net-b',
    ]);
    await s.close();
  });

  it('a pass waits for a CNI call holding the container lock (CHECK, DEL)', async () => {
    const s = await setup('net-a');
    await runPodNetworkRequest(s.deps, s.request('ADD'));
    await s.controller.containerDone('c1', ARGS);
    await s.controller.whenIdle();
    s.lists.calls = [];
    const unlock = await s.locks.acquire('c1');
    s.controller.podChanged(s.edit('net-a,net-b'), false);
    await runPodNetworkRequest(s.deps, s.request('DEL'));
    unlock();
    await s.controller.containerDone('c1', ARGS);
    await s.controller.whenIdle();
    // The DEL ran alone, and the pass then found no sandbox to change.
    assert.deepEqual(s.lists.lines(), ['DEL net-a net1', 'DEL cluster-net eth0']);
    assert.equal(await s.plans.get('c1'), undefined);
    await s.close();
  });
});
