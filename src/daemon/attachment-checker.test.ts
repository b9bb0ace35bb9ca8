import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emptyConfSource, FakeDelegateLists, MemoryPlanStore } from '../../test/support/fake-engine-deps.ts';
import { FakeClusterView } from '../../test/support/memory-cluster-view.ts';
import { parseMultinetConfig } from '../config/multinet-config.ts';
import type { EngineDeps, PodNetworkRequest } from '../engine/engine-deps.ts';
import { runPodNetworkRequest } from '../engine/engine.ts';
import { silentLogger } from '../log/logger.ts';
import { parseNetworkStatus } from '../spec/network-status.ts';
import { AttachmentChecker } from './attachment-checker.ts';
import { ConcurrencyLimiter } from './concurrency-limiter.ts';
import { ContainerLocks } from './container-locks.ts';

const MARK = 'multinet.dev/check';

function scene(opts: { netCniVersion?: string; events?: string } = {}) {
  const cluster = new FakeClusterView();
  cluster.addPod({
    namespace: 'ns1',
    name: 'pod-a',
    uid: 'uid-1',
    annotations: { 'k8s.v1.cni.cncf.io/networks': 'net-a' },
  });
  cluster.addNad('kube-system', 'cluster-net', { cniVersion: '1.0.0', name: 'cluster-net', type: 'bridge' });
  cluster.addNad('ns1', 'net-a', {
    cniVersion: opts.netCniVersion ?? '1.0.0',
    name: 'net-a',
    type: 'macvlan',
  });
  const lists = new FakeDelegateLists();
  const plans = new MemoryPlanStore();
  const deps: EngineDeps = {
    config: parseMultinetConfig({
      clusterNetwork: 'cluster-net',
      podLookupTimeoutSeconds: 0.2,
      ...(opts.events ? { events: opts.events } : {}),
    }).engine,
    cluster,
    confs: emptyConfSource(),
    lists,
    plans,
    routes: { setDefaultRoute: async () => undefined },
    log: silentLogger,
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    now: () => Date.now(),
  };
  const netns = new Set(['/run/netns/p1', '/run/netns/p2']);
  const limiter = new ConcurrencyLimiter(2, 0, 1000, { maxActive: 2, maxQueued: 0 });
  const observed: string[] = [];
  let degraded = -1;
  const checker = new AttachmentChecker({
    intervalMs: 1000,
    deps: () => deps,
    locks: new ContainerLocks(),
    limiter,
    netnsExists: async (p) => netns.has(p),
    cachedCondition: (pod) => {
      const p = cluster.pods.get(`${pod.namespace}/${pod.name}`);
      return { gone: !p || p.uid !== pod.uid, ...(p?.networksReady ? { ready: p.networksReady } : {}) };
    },
    readPod: () => Promise.reject(new Error('no live read expected: the cache knows')),
    observeCheck: (network, outcome) => observed.push(`${network} ${outcome}`),
    observeDegraded: (n) => (degraded = n),
    log: silentLogger,
    now: () => new Date('2030-01-02T03:04:05.678Z'),
  });
  const add = (containerId: string, netnsPath: string): PodNetworkRequest => ({
    command: 'ADD',
    containerId,
    netns: netnsPath,
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
  return { cluster, lists, deps, netns, limiter, checker, observed, add, degraded: () => degraded };
}

const checks = (lists: FakeDelegateLists) => lists.lines().filter((l) => l.startsWith('CHECK'));

describe('AttachmentChecker', () => {
  it('drift: one write of False + marks + a Warning, nothing while unchanged, True again on recovery', async () => {
    const s = scene();
    await runPodNetworkRequest(s.deps, s.add('c1', '/run/netns/p1'));
    s.cluster.statusWrites.length = 0;
    s.cluster.events.length = 0;

    await s.checker.sweep();
    assert.deepEqual(checks(s.lists), ['CHECK cluster-net eth0', 'CHECK net-a net1']);
    assert.equal(s.cluster.statusWrites.length, 0, 'healthy, and the API already says True: no write');

    s.lists.failCheck.set('net1', 'interface net1 not found');
    await s.checker.sweep();
    assert.equal(s.cluster.statusWrites.length, 1);
    const w = s.cluster.statusWrites[0]!;
    assert.deepEqual(w.pod, { namespace: 'ns1', name: 'pod-a', uid: 'uid-1' });
    assert.equal(w.ready?.status, 'False');
    assert.equal(w.ready?.reason, 'NetworkDegraded');
    assert.equal(w.ready?.lastTransitionTime, '2030-01-02T03:04:05Z');
    assert.match(w.ready?.message ?? '', /ns1\/net-a \(net1\): interface net1 not found/);
    const status = parseNetworkStatus(w.json);
    assert.deepEqual(
      status.map((e) => [e.interface, e[MARK]]),
      [
        ['eth0', undefined],
        ['net1', { error: 'interface net1 not found', since: '2030-01-02T03:04:05Z' }],
      ],
    );
    assert.deepEqual(
      s.cluster.events.map((e) => [e.type, e.reason]),
      [['Warning', 'NetworkDegraded']],
    );
    assert.ok(s.observed.includes('ns1/net-a failure'));
    assert.equal(s.degraded(), 1);

    await s.checker.sweep();
    assert.equal(s.cluster.statusWrites.length, 1, 'the same drift is not written twice');
    assert.equal(s.cluster.events.length, 1);

    s.lists.failCheck.clear();
    await s.checker.sweep();
    assert.equal(s.cluster.statusWrites.length, 2);
    const back = s.cluster.statusWrites[1]!;
    assert.equal(back.ready?.status, 'True');
    assert.equal(back.ready?.reason, 'NetworksAttached');
    assert.ok(
      parseNetworkStatus(back.json).every((e) => e[MARK] === undefined),
      'marks removed',
    );
    assert.deepEqual(s.cluster.events[1] && [s.cluster.events[1].type, s.cluster.events[1].reason], [
      'Normal',
      'NetworksRecovered',
    ]);
    assert.equal(s.degraded(), 0);
    assert.equal(
      s.lists.lines().filter((l) => !l.startsWith('CHECK') && !l.startsWith('ADD')).length,
      0,
      'CHECK never changes the pod',
    );
  });

  it('skips configs older than 0.4.0, sandboxes whose netns is gone, and pods with two sandboxes', async () => {
    const old = scene({ netCniVersion: '0.3.1' });
    await runPodNetworkRequest(old.deps, old.add('c1', '/run/netns/p1'));
    old.lists.failCheck.set('net1', 'would fail');
    await old.checker.sweep();
    assert.deepEqual(checks(old.lists), ['CHECK cluster-net eth0']);
    assert.ok(old.observed.includes('ns1/net-a skipped'));
    assert.equal(old.cluster.statusWrites.length, 1, 'only the ADD wrote');

    const gone = scene();
    await runPodNetworkRequest(gone.deps, gone.add('c1', '/run/netns/p1'));
    gone.netns.delete('/run/netns/p1');
    await gone.checker.sweep();
    assert.deepEqual(checks(gone.lists), []);

    const two = scene();
    await runPodNetworkRequest(two.deps, two.add('c1', '/run/netns/p1'));
    await runPodNetworkRequest(two.deps, two.add('c2', '/run/netns/p2'));
    await two.checker.sweep();
    assert.deepEqual(checks(two.lists), [], 'the runtime is replacing a sandbox: wait for the next round');
  });

  it('never takes a slot a CNI call needs, and writes no Warning with events: none', async () => {
    const s = scene({ events: 'none' });
    await runPodNetworkRequest(s.deps, s.add('c1', '/run/netns/p1'));
    const held = [s.limiter.tryAcquire('')!, s.limiter.tryAcquire('')!];
    const totals = await s.checker.sweep();
    assert.equal(totals.skipped, 1);
    assert.deepEqual(checks(s.lists), []);
    for (const r of held) r();

    s.lists.failCheck.set('net1', 'gone');
    s.cluster.events.length = 0;
    await s.checker.sweep();
    assert.equal(s.cluster.statusWrites.at(-1)?.ready?.status, 'False');
    assert.deepEqual(s.cluster.events, []);
  });
});
