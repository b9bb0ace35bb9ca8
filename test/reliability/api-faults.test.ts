/**
 * The real kube-apiserver going away, and NetworkAttachmentDefinitions changing under a running
 * pod, with the real daemon (watch caches, multinet's ServiceAccount) and the reference plugins.
 * ADD must fail clearly and leave nothing; DEL must work from multinet's cache alone and release
 * with the configuration used at ADD, whatever the API says (or does not say) by then.
 */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { describe } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { scrape, waitFor, waitForCached } from '../integration/daemon-harness.ts';
import { forwardApiForFaults } from '../support/fault-api.ts';
import { startControlPlane, type ControlPlane } from '../support/control-plane.ts';
import { recordLeaks, scenario } from '../support/fault-report.ts';
import { bridgeNet, delegatesOf, FaultScene, leakList, NOTHING, podArgs } from '../support/fault-scene.ts';
import type { KubeObject } from '../support/kube-client.ts';
import type { NetnsTopology, PodNs } from '../support/netns.ts';

const NODE = 'node-reliability';

const nad = (namespace: string, name: string, config: object): KubeObject => ({
  apiVersion: 'k8s.cni.cncf.io/v1',
  kind: 'NetworkAttachmentDefinition',
  metadata: { namespace, name },
  spec: { config: JSON.stringify({ cniVersion: '1.0.0', name, ...config }) },
});

const ipam = (topo: NetnsTopology, subnet: string) => ({
  type: 'host-local',
  ranges: [[{ subnet }]],
  dataDir: topo.dataDir,
});

/** A daemon against `cp` as multinet's ServiceAccount, its caches synced. */
async function apiScene(t: TestContext, cp: ControlPlane, subnet: number, networks: string[]) {
  const s = await FaultScene.create(t, (topo) => ({
    primary: bridgeNet(topo, 'podnet', `10.${subnet}.0.0/24`, `mna${subnet}`),
    daemon: { kubeconfig: cp.multinetKubeconfig, nodeName: NODE, podLookupTimeoutSeconds: 2 },
    bridges: [`mna${subnet}`],
    ipamNetworks: networks,
  }));
  const stopForwarder = await forwardApiForFaults(cp.server, s.topo.node, s.topo.tmpDir);
  t.after(stopForwarder);
  const daemon = await s.start();
  const port = await daemon.metricsPort();
  await waitFor('caches synced', () => /"ready":true/.test(scrape(s.topo, port, '/readyz')), 20_000);
  return s;
}

/**
 * Waits until the daemon's watch caches hold `want` objects per resource (its
 * multinet_cache_objects metric): the pod and NADs a scenario made, or the removal of one.
 */
async function cachesHold(s: FaultScene, want: Record<string, number>): Promise<void> {
  await waitForCached(s.topo, await s.daemon!.metricsPort(), want);
}

async function createPod(cp: ControlPlane, namespace: string, name: string, networks: string) {
  const created = await cp.client.create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { namespace, name, annotations: { 'k8s.v1.cni.cncf.io/networks': networks } },
    spec: { nodeName: NODE, containers: [{ name: 'c', image: 'example.invalid/none' }] },
  });
  return podArgs(name, namespace, created.metadata!.uid!);
}

async function assertClean(s: FaultScene, name: string, pods: PodNs[]) {
  const left = await s.leftovers(pods);
  assert.deepEqual(recordLeaks(name, leakList(left)), [], JSON.stringify(left));
  assert.deepEqual(left, NOTHING);
}

async function waitForLinks(s: FaultScene, pod: PodNs, want: string) {
  const end = Date.now() + 15_000;
  while ((await s.podLinks(pod)).sort().join() !== want) {
    if (Date.now() > end) throw new Error(`links never became ${want}: ${(await s.podLinks(pod)).join()}`);
    await sleep(25);
  }
}

describe('the API server stops during ADD and during DEL', { timeout: 150_000 }, () => {
  scenario('stopped during ADD: a clear code-11 error, nothing left; DEL then succeeds', async (t) => {
    const cp = await startControlPlane();
    t.after(() => cp.stop());
    await cp.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'stop-add' } });
    const s = await apiScene(t, cp, 101, ['slow']);
    await cp.client.create(
      nad('stop-add', 'slow', {
        type: 'fake-slow',
        fakeDelegate: 'macvlan',
        fakeDelaySeconds: 4,
        master: 'ens1',
        ipam: ipam(s.topo, '10.101.1.0/24'),
      }),
    );
    const args = await createPod(cp, 'stop-add', 'p1', 'slow');
    await cachesHold(s, { pods: 1, 'network-attachment-definitions': 1 });
    const pod = await s.topo.addPod();
    const add = s.call('ADD', 'sa1', pod, args);
    await waitForLinks(s, pod, 'eth0');
    await cp.stop();
    const out = await add;
    assert.equal(out.exitCode, 1, out.stdout);
    assert.equal(out.json?.['code'], 11, out.stdout);
    assert.match(
      String(out.json?.['details']),
      /pod stop-add\/p1: cannot write the network-status annotation/,
    );
    await assertClean(s, 'API stopped during ADD: after ADD', [pod]);

    // A pod the caches never saw, with the API gone: told so within the lookup timeout.
    const other = await s.topo.addPod();
    const t0 = Date.now();
    const unseen = await s.call('ADD', 'sa2', other, podArgs('never-seen', 'stop-add'));
    assert.equal(unseen.json?.['code'], 11, unseen.stdout);
    assert.match(String(unseen.json?.['details']), /the API server cannot be read/);
    assert.ok(Date.now() - t0 < 10_000);
    await assertClean(s, 'API gone, unseen pod: after ADD', [pod, other]);

    assert.equal((await s.call('DEL', 'sa1', pod, args)).exitCode, 0);
    assert.equal((await s.call('DEL', 'sa2', other, podArgs('never-seen', 'stop-add'))).exitCode, 0);
    await assertClean(s, 'API stopped during ADD: after DEL', [pod, other]);
  });

  scenario('stopped during DEL: DEL succeeds from the cache and releases every address', async (t) => {
    const cp = await startControlPlane();
    t.after(() => cp.stop());
    await cp.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'stop-del' } });
    const s = await apiScene(t, cp, 102, ['mv', 'slowdel']);
    await cp.client.create(
      nad('stop-del', 'mv', { type: 'macvlan', master: 'ens1', ipam: ipam(s.topo, '10.102.1.0/24') }),
    );
    await cp.client.create(
      nad('stop-del', 'slowdel', {
        type: 'fake-slow',
        fakeDelegate: 'ptp',
        fakeDelayCommand: 'DEL',
        fakeDelaySeconds: 2,
        ipam: ipam(s.topo, '10.102.2.0/24'),
      }),
    );
    const args = await createPod(cp, 'stop-del', 'p1', 'mv,slowdel');
    await cachesHold(s, { pods: 1, 'network-attachment-definitions': 2 });
    const pod = await s.topo.addPod();
    const add = await s.call('ADD', 'sd1', pod, args);
    assert.equal(add.exitCode, 0, add.stdout);
    assert.equal((await s.leftovers([pod])).ips.length, 3);
    const del = s.call('DEL', 'sd1', pod, args);
    // DEL runs in reverse: net2's slow plugin first, sleeping before it deletes anything.
    await waitFor('the slow DEL to run', () => delegatesOf('sd1', 'net2').length > 0);
    await cp.stop();
    const out = await Promise.race([
      del,
      sleep(20_000).then(() => {
        throw new Error(`DEL did not answer:\n${s.daemon!.describe()}`);
      }),
    ]);
    assert.equal(out.exitCode, 0, out.stdout);
    await assertClean(s, 'API stopped during DEL: after DEL', [pod]);
  });
});

describe('NetworkAttachmentDefinitions deleted or changed between ADD and DEL', { timeout: 120_000 }, () => {
  scenario('DEL releases with the configuration used at ADD', async (t) => {
    const cp = await startControlPlane();
    t.after(() => cp.stop());
    await cp.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'nadchange' } });
    const s = await apiScene(t, cp, 103, ['gone', 'changed', 'changed2']);
    await cp.client.create(
      nad('nadchange', 'gone', { type: 'macvlan', master: 'ens1', ipam: ipam(s.topo, '10.103.1.0/24') }),
    );
    await cp.client.create(nad('nadchange', 'changed', { type: 'ptp', ipam: ipam(s.topo, '10.103.2.0/24') }));
    const args = await createPod(cp, 'nadchange', 'p1', 'gone,changed');
    await cachesHold(s, { pods: 1, 'network-attachment-definitions': 2 });
    const pod = await s.topo.addPod();
    const add = await s.call('ADD', 'nc1', pod, args);
    assert.equal(add.exitCode, 0, add.stdout);
    assert.equal((await s.leftovers([pod])).ips.length, 3);

    // Another plugin, another subnet, another network name: nothing of the original left in it.
    await cp.client.patch(
      {
        apiVersion: 'k8s.cni.cncf.io/v1',
        kind: 'NetworkAttachmentDefinition',
        namespace: 'nadchange',
        name: 'changed',
      },
      {
        spec: {
          config: JSON.stringify({
            cniVersion: '1.0.0',
            name: 'changed2',
            type: 'macvlan',
            master: 'ens1',
            ipam: ipam(s.topo, '10.103.9.0/24'),
          }),
        },
      },
    );
    await cp.client.delete({
      apiVersion: 'k8s.cni.cncf.io/v1',
      kind: 'NetworkAttachmentDefinition',
      namespace: 'nadchange',
      name: 'gone',
    });
    // One watch delivers NAD events in order: once the deletion is in the cache, so is the change.
    await cachesHold(s, { 'network-attachment-definitions': 1 });
    const del = await s.call('DEL', 'nc1', pod, args);
    assert.equal(del.exitCode, 0, del.stdout);
    await assertClean(s, 'NAD deleted/changed: after DEL', [pod]);
  });
});
