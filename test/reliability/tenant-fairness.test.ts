/**
 * One namespace must not be able to hold every slot or the whole wait queue of a node's daemon
 * (issue 10 #3): a namespace whose pods use a slow network (the FAKE fake-slow plugin in front of
 * the real macvlan: a delegate that takes long, as a hostile or broken one does) fires more ADDs
 * than the daemon has slots and queue places. A pod of another namespace must be served at once,
 * not after the slow ones and not with code 11, and the slow namespace is told why it waits.
 * Real daemon, shim, plugins and kube-apiserver.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe } from 'node:test';
import { scrape, waitFor } from '../integration/daemon-harness.ts';
import type { CniOutcome } from '../support/cni-runtime.ts';
import { startControlPlane, type ControlPlane } from '../support/control-plane.ts';
import { forwardApiForFaults } from '../support/fault-api.ts';
import { recordLeaks, scenario } from '../support/fault-report.ts';
import { bridgeNet, FaultScene, leakList, NOTHING, podArgs } from '../support/fault-scene.ts';
import type { PodNs } from '../support/netns.ts';

const NODE = 'node-fairness';
const NOISY = 12;
/** Longer than any ADD of the quiet pod can take on a loaded machine, so "before" is unambiguous. */
const SLOW_SECONDS = 15;

async function createPod(cp: ControlPlane, namespace: string, name: string, networks?: string) {
  const created = await cp.client.create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      namespace,
      name,
      ...(networks ? { annotations: { 'k8s.v1.cni.cncf.io/networks': networks } } : {}),
    },
    spec: { nodeName: NODE, containers: [{ name: 'c', image: 'example.invalid/none' }] },
  });
  return podArgs(name, namespace, created.metadata!.uid!);
}

/** FAKE delegates of this scene sleeping now (one per noisy ADD that holds a slot). */
function sleepingDelegates(s: FaultScene): number {
  return s.strayProcesses().filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'sleep';
    } catch {
      return false;
    }
  }).length;
}

/** Connections open on the daemon's socket (each waiting or working request holds one). */
function socketConnections(s: FaultScene): number {
  const out = execFileSync(
    'nsenter',
    [`--net=${s.topo.nodePath}`, '--', 'ss', '-xHn', 'state', 'connected'],
    {
      encoding: 'utf8',
    },
  );
  return out.split('\n').filter((l) => l.includes(s.setup.socketPath)).length;
}

describe('fair sharing of the daemon between namespaces (real kube-apiserver)', { timeout: 180_000 }, () => {
  scenario("a namespace's slow ADDs do not make another namespace's pod wait or fail", async (t) => {
    const cp = await startControlPlane();
    t.after(() => cp.stop());
    for (const name of ['noisy', 'quiet'])
      await cp.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    const s = await FaultScene.create(t, (topo) => ({
      primary: bridgeNet(topo, 'podnet', `10.161.0.0/24`, 'mnf161'),
      daemon: {
        kubeconfig: cp.multinetKubeconfig,
        nodeName: NODE,
        maxConcurrentRequests: 4,
        maxQueuedRequests: 8,
        queueTimeoutSeconds: 60,
      },
      bridges: ['mnf161'],
      ipamNetworks: ['slow'],
    }));
    t.after(await forwardApiForFaults(cp.server, s.topo.node, s.topo.tmpDir));
    await cp.client.create({
      apiVersion: 'k8s.cni.cncf.io/v1',
      kind: 'NetworkAttachmentDefinition',
      metadata: { namespace: 'noisy', name: 'slow' },
      spec: {
        config: JSON.stringify({
          cniVersion: '1.0.0',
          name: 'slow',
          type: 'fake-slow',
          fakeDelegate: 'macvlan',
          fakeDelaySeconds: SLOW_SECONDS,
          master: 'ens1',
          mode: 'bridge',
          ipam: { type: 'host-local', ranges: [[{ subnet: '10.161.1.0/24' }]], dataDir: s.topo.dataDir },
        }),
      },
    });
    const noisyArgs = [];
    for (let i = 0; i < NOISY; i++) noisyArgs.push(await createPod(cp, 'noisy', `slow-${i}`, 'slow'));
    const quietArgs = await createPod(cp, 'quiet', 'q1');
    const daemon = await s.start();
    const port = await daemon.metricsPort();
    await waitFor('caches synced', () => /"ready":true/.test(scrape(s.topo, port, '/readyz')), 30_000);

    const pods: PodNs[] = [];
    for (let i = 0; i <= NOISY; i++) pods.push(await s.topo.addPod());
    const noisy: { out?: CniOutcome; at?: number }[] = noisyArgs.map(() => ({}));
    const noisyDone = noisyArgs.map((args, i) =>
      s.call('ADD', `slow-${i}`, pods[i], args).then((out) => {
        noisy[i] = { out, at: performance.now() };
      }),
    );
    // Every noisy ADD is working (its delegate sleeps), waiting on the socket, or answered.
    await waitFor(
      'the noisy ADDs hold their slots and queue places',
      () =>
        sleepingDelegates(s) >= 2 && socketConnections(s) >= noisy.filter((n) => n.out === undefined).length,
      60_000,
    );

    const quiet = await s.call('ADD', 'q1', pods[NOISY], quietArgs);
    const quietAt = performance.now();
    assert.equal(quiet.exitCode, 0, `the quiet pod's ADD: ${quiet.stdout}`);
    const servedBefore = noisy.filter((n) => n.out?.exitCode === 0 && n.at! < quietAt).length;
    assert.equal(servedBefore, 0, 'the quiet pod was served before any slow ADD finished');

    await Promise.all(noisyDone);
    const refused = noisy.filter((n) => n.out?.exitCode !== 0);
    assert.ok(refused.length > 0, 'the noisy namespace was held to its share');
    for (const r of refused) {
      assert.equal(r.out?.json?.['code'], 11, r.out?.stdout);
      assert.match(String(r.out?.json?.['details']), /namespace noisy has \d+ requests in flight/);
    }

    for (let i = 0; i < NOISY; i++)
      assert.equal((await s.call('DEL', `slow-${i}`, pods[i], noisyArgs[i])).exitCode, 0);
    assert.equal((await s.call('DEL', 'q1', pods[NOISY], quietArgs)).exitCode, 0);
    const left = await s.leftovers(pods);
    assert.deepEqual(recordLeaks('fairness: after DEL', leakList(left)), [], JSON.stringify(left));
    assert.deepEqual(left, NOTHING);
  });
});
