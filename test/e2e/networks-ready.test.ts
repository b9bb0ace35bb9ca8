/**
 * docs/readiness.md end to end: the NetworksReady pod condition and the continuous CHECK, with
 * the real daemon (the shipped bundle, as the multinet ServiceAccount) against a real
 * kube-apiserver, the bundled shim exec'd as a runtime would, and the reference bridge and
 * macvlan plugins in real network namespaces. An attachment is broken behind multinet's back
 * (`ip link del net1` inside the pod), as a node admin or a crashed agent would.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { runCli } from '../../src/cli/run-cli.ts';
import { parseNetworkStatus } from '../../src/spec/network-status.ts';
import { scrape, waitFor } from '../integration/daemon-harness.ts';
import { forwardApiIntoNetns } from '../support/api-forwarder.ts';
import { startControlPlane, type ControlPlane } from '../support/control-plane.ts';
import { bridgeNet, FaultScene, podArgs } from '../support/fault-scene.ts';
import type { KubeObject } from '../support/kube-client.ts';
import { addressesOf, ip, linkIn, type PodNs } from '../support/netns.ts';

const NODE = 'node-networks-ready';
const SA_USER = 'system:serviceaccount:kube-system:multinet';
const MARK = 'multinet.dev/check';

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

type Pod = KubeObject & { status?: { conditions?: Condition[] } };

/** Sum of a metric's samples whose labels contain `labels` (e.g. `network="default/mv"`). */
function metric(text: string, name: string, labels = ''): number {
  let sum = 0;
  for (const m of text.matchAll(new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`, 'gm')))
    if ((m[1] ?? '').includes(labels)) sum += Number(m[2]);
  return sum;
}

describe('NetworksReady and continuous CHECK against a real kube-apiserver', { timeout: 300_000 }, () => {
  let cp: ControlPlane;
  before(async () => {
    cp = await startControlPlane();
  });
  after(async () => {
    await cp?.stop();
  });

  const getPod = (name: string) =>
    cp.client.get<Pod>({ apiVersion: 'v1', kind: 'Pod', namespace: 'default', name });
  const condition = async (name: string) =>
    (await getPod(name)).status?.conditions?.find((c) => c.type === 'NetworksReady');
  const statusPatches = async (name: string) =>
    (await cp.readAudit()).filter(
      (e) =>
        e.user.username === SA_USER &&
        e.stage === 'ResponseComplete' &&
        e.verb === 'patch' &&
        e.objectRef?.subresource === 'status' &&
        e.objectRef.name === name,
    ).length;
  const events = async (uid: string, reason: string) =>
    (
      (await cp.client.list({ apiVersion: 'v1', kind: 'Event', namespace: 'default' }))
        .items as (KubeObject & {
        reason?: string;
        type?: string;
        message?: string;
        involvedObject?: { uid?: string };
      })[]
    ).filter((e) => e.involvedObject?.uid === uid && e.reason === reason);

  async function createPod(name: string, networks: string): Promise<string> {
    const pod = await cp.client.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { namespace: 'default', name, annotations: { 'k8s.v1.cni.cncf.io/networks': networks } },
      spec: {
        nodeName: NODE,
        readinessGates: [{ conditionType: 'NetworksReady' }],
        containers: [{ name: 'c', image: 'example.invalid/none' }],
      },
    });
    return pod.metadata!.uid!;
  }

  it('ADD writes NetworksReady with network-status in one PATCH; drift flips it only while CHECK is on', async (t) => {
    const scene = await FaultScene.create(t, (topo) => ({
      primary: bridgeNet(topo, 'podnet', '10.71.0.0/24', 'mnr0'),
      bridges: ['mnr0'],
      ipamNetworks: ['mv-ready'],
    }));
    t.after(await forwardApiIntoNetns(cp.server, scene.topo.node, scene.topo.tmpDir));
    const daemonConfig = { kubeconfig: cp.multinetKubeconfig, nodeName: NODE, podLookupTimeoutSeconds: 5 };
    await cp.client.create({
      apiVersion: 'k8s.cni.cncf.io/v1',
      kind: 'NetworkAttachmentDefinition',
      metadata: { namespace: 'default', name: 'mv-ready' },
      spec: {
        config: JSON.stringify({
          cniVersion: '1.0.0',
          type: 'macvlan',
          master: 'ens1',
          mode: 'bridge',
          ipam: { type: 'host-local', ranges: [[{ subnet: '10.72.0.0/24' }]], dataDir: scene.topo.dataDir },
        }),
      },
    });
    const uidA = await createPod('ready-a', 'mv-ready');
    const uidB = await createPod('ready-b', 'mv-ready');
    const uidM = await createPod('ready-missing', 'no-such-net');
    // What a kubelet writes before the sandbox exists: the strategic merge must keep it.
    await cp.client.patch(
      { apiVersion: 'v1', kind: 'Pod', namespace: 'default', name: 'ready-b' },
      {
        status: {
          conditions: [
            { type: 'PodScheduled', status: 'True' },
            { type: 'Ready', status: 'False', reason: 'ReadinessGatesNotReady' },
          ],
        },
      },
      { subresource: 'status', type: 'strategic' },
    );

    // Phase 1: continuous CHECK off (the default).
    const first = await scene.start(daemonConfig);
    const port1 = await first.metricsPort();
    await waitFor('caches synced', () => /"ready":true/.test(scrape(scene.topo, port1, '/readyz')), 20_000);
    const pods = new Map<string, PodNs>();
    for (const [name, uid] of [
      ['ready-a', uidA],
      ['ready-b', uidB],
    ] as const) {
      const ns = await scene.topo.addPod();
      pods.set(name, ns);
      const add = await scene.call('ADD', `ctr-${name}`, ns, podArgs(name, 'default', uid));
      assert.equal(add.exitCode, 0, `${add.stdout}\n${first.describe()}`);
    }
    for (const name of ['ready-a', 'ready-b']) {
      assert.equal(await statusPatches(name), 1, `${name}: annotation and condition in one PATCH`);
      const pod = await getPod(name);
      const status = parseNetworkStatus(pod.metadata!.annotations!['k8s.v1.cni.cncf.io/network-status']!);
      assert.deepEqual(
        status.map((e) => [e.name, e.interface]),
        [
          ['podnet', 'eth0'],
          ['default/mv-ready', 'net1'],
        ],
      );
      const ready = pod.status?.conditions?.find((c) => c.type === 'NetworksReady');
      assert.equal(ready?.status, 'True');
      assert.equal(ready?.reason, 'NetworksAttached');
      assert.equal(ready?.message, '2 networks are attached: podnet (eth0), default/mv-ready (net1)');
      // The test client parses times into Dates: whole seconds, as the API stores them.
      assert.equal(new Date(String(ready?.lastTransitionTime)).getMilliseconds(), 0);
    }
    const kept = (await getPod('ready-b')).status?.conditions?.map((c) => `${c.type}=${c.status}`).sort();
    assert.deepEqual(kept, ['NetworksReady=True', 'PodScheduled=True', 'Ready=False'], "the kubelet's stay");

    // A failed ADD: False, NetworkMissing, naming the network.
    const missingNs = await scene.topo.addPod();
    const failed = await scene.call(
      'ADD',
      'ctr-missing',
      missingNs,
      podArgs('ready-missing', 'default', uidM),
    );
    assert.notEqual(failed.exitCode, 0);
    const missing = await condition('ready-missing');
    assert.equal(missing?.status, 'False');
    assert.equal(missing?.reason, 'NetworkMissing');
    assert.match(missing?.message ?? '', /^network default\/no-such-net is not attached: NETWORK_NOT_FOUND/);

    // Broken behind multinet's back; with the interval off nothing notices, nothing runs.
    const podB = pods.get('ready-b')!;
    const before = await linkIn(podB.name, 'net1');
    const addressB = (await addressesOf(podB.name, 'net1'))[0]!;
    assert.ok(before?.address && addressB);
    await ip('-n', podB.name, 'link', 'del', 'net1');
    await sleep(3_000);
    const off = scrape(scene.topo, port1);
    assert.equal(metric(off, 'multinet_check_runs_total'), 0);
    assert.equal(metric(off, 'multinet_delegate_duration_seconds_count', 'command="CHECK"'), 0);
    assert.equal((await condition('ready-b'))?.status, 'True');
    assert.ok(!first.logs.some((l) => l.msg === 'continuous CHECK on'));
    assert.equal(await first.stop(), 0);

    // Phase 2: the same node with checkIntervalSeconds: 1.
    const second = await scene.start({ ...daemonConfig, checkIntervalSeconds: 1 });
    const port2 = await second.metricsPort();
    await waitFor(
      'NetworksReady=False on ready-b',
      async () => (await condition('ready-b'))?.status === 'False',
      30_000,
    );
    const degraded = (await condition('ready-b'))!;
    assert.equal(degraded.reason, 'NetworkDegraded');
    assert.match(degraded.message ?? '', /^CHECK fails for network default\/mv-ready \(net1\): /);
    const marked = parseNetworkStatus(
      (await getPod('ready-b')).metadata!.annotations!['k8s.v1.cni.cncf.io/network-status']!,
    );
    assert.deepEqual(
      marked.map((e) => [e.interface, e[MARK] !== undefined]),
      [
        ['eth0', false],
        ['net1', true],
      ],
    );
    assert.equal(marked[1]!.ips?.[0], addressB.split('/')[0], 'the rest of the entry as ADD wrote it');
    await waitFor(
      'a Warning event',
      async () => (await events(uidB, 'NetworkDegraded')).length === 1,
      10_000,
    );
    assert.equal((await events(uidB, 'NetworkDegraded'))[0]!.type, 'Warning');
    const m = scrape(scene.topo, port2);
    assert.ok(metric(m, 'multinet_check_failures_total', 'network="default/mv-ready"') >= 1);
    assert.equal(metric(m, 'multinet_check_degraded_attachments'), 1);

    // Rounds go on without writing: the drift is reported once, the healthy pod never.
    const patchesB = await statusPatches('ready-b');
    const failuresNow = metric(scrape(scene.topo, port2), 'multinet_check_failures_total');
    await waitFor(
      'two more rounds',
      () => metric(scrape(scene.topo, port2), 'multinet_check_failures_total') >= failuresNow + 2,
      15_000,
    );
    assert.equal(await statusPatches('ready-b'), patchesB, 'unchanged drift is not written again');
    assert.equal(await statusPatches('ready-a'), 1, 'a healthy pod is never written by CHECK');
    assert.equal((await condition('ready-a'))?.status, 'True');
    assert.equal(await linkIn(podB.name, 'net1'), undefined, 'no repair: CHECK never changes the pod');
    assert.ok((await addressesOf(podB.name, 'eth0')).length > 0);

    // multinet status shows it.
    let out = '';
    const code = await runCli(['status', '--kubeconfig', cp.adminKubeconfig], {
      stdout: (s) => (out += s),
      stderr: (s) => (out += s),
      env: {},
      isTty: false,
    });
    assert.equal(code, 0, out);
    assert.match(out, /default\/ready-b\s+False\s+net1\s+default\/mv-ready\s+\S+\s+\S+\s+FAILING/);
    assert.match(out, /default\/ready-a\s+True\s+net1\s+default\/mv-ready/);
    assert.match(out, /NetworksReady=False:\n(?:.*\n)*\s+default\/ready-b: NetworkDegraded: CHECK fails/);
    assert.match(out, /default\/ready-missing: NetworkMissing: network default\/no-such-net/);
    assert.match(
      out,
      /drift \(periodic CHECK failing\):\n\s+default\/ready-b net1 default\/mv-ready: since /,
    );

    // Put net1 back as macvlan made it (same MAC and address): True again, marks gone, Normal event.
    await ip(
      '-n',
      scene.topo.node,
      'link',
      'add',
      'net1tmp',
      'link',
      'ens1',
      'type',
      'macvlan',
      'mode',
      'bridge',
    );
    await ip('-n', scene.topo.node, 'link', 'set', 'net1tmp', 'netns', podB.name);
    await ip('-n', podB.name, 'link', 'set', 'net1tmp', 'name', 'net1', 'address', before.address);
    await ip('-n', podB.name, 'addr', 'add', addressB, 'dev', 'net1');
    await ip('-n', podB.name, 'link', 'set', 'net1', 'up');
    await waitFor(
      'NetworksReady=True again',
      async () => (await condition('ready-b'))?.status === 'True',
      30_000,
    );
    const healed = parseNetworkStatus(
      (await getPod('ready-b')).metadata!.annotations!['k8s.v1.cni.cncf.io/network-status']!,
    );
    assert.ok(healed.every((e) => e[MARK] === undefined));
    await waitFor(
      'a Normal event',
      async () => (await events(uidB, 'NetworksRecovered')).length === 1,
      10_000,
    );
    const round = second.logs.filter((l) => l.msg === 'CHECK round done').at(-1);
    t.diagnostic(`CHECK round: ${JSON.stringify(round)}`);

    for (const [name, ns] of pods) {
      const del = await scene.call('DEL', `ctr-${name}`, ns, podArgs(name, 'default'));
      assert.equal(del.exitCode, 0, del.stdout);
    }
    assert.equal(await second.stop(), 0);
  });
});
