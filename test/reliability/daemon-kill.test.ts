/**
 * The daemon SIGKILLed (as the kubelet or the OOM killer would end its pod) in the middle of an
 * ADD with three networks: the first attachments exist, the third is in flight. A new daemon
 * starts; whatever the runtime does next (DEL then ADD, or ADD again at once) must leave exactly
 * one set of attachments, and the final DEL nothing at all.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { recordLeaks, scenario } from '../support/fault-report.ts';
import { waitFor } from '../integration/daemon-harness.ts';
import { bridgeNet, delegatesOf, FaultScene, leakList, NOTHING, simpleNet } from '../support/fault-scene.ts';
import type { PodNs } from '../support/netns.ts';

async function threeNetworks(t: Parameters<typeof FaultScene.create>[0], subnet: number) {
  const s = await FaultScene.create(t, (topo) => ({
    primary: bridgeNet(topo, 'podnet', `10.${subnet}.0.0/24`, `mnk${subnet}`),
    networks: {
      'n1.conf': simpleNet(topo, 'n1', 'ptp', `10.${subnet}.1.0/24`),
      'n2.conf': simpleNet(topo, 'n2', 'fake-slow', `10.${subnet}.2.0/24`, {
        fakeDelegate: 'macvlan',
        fakeDelaySeconds: 3,
      }),
    },
    daemon: { defaultNetworks: ['n1', 'n2'] },
    bridges: [`mnk${subnet}`],
  }));
  await s.start();
  return s;
}

/** Starts an ADD and kills the daemon once eth0 and net1 exist and net2 is in flight. */
async function killMidAdd(s: FaultScene, pod: PodNs, id: string) {
  const add = s.call('ADD', id, pod);
  const end = Date.now() + 15_000;
  while ((await s.podLinks(pod)).sort().join() !== 'eth0,net1') {
    if (Date.now() > end) throw new Error(`ADD never reached net2: ${(await s.podLinks(pod)).join()}`);
    await sleep(25);
  }
  // net2's slow delegate is running (it sleeps before it attaches anything).
  await waitFor(`${id}: net2's delegate to start`, () => delegatesOf(id, 'net2').length > 0, 15_000);
  await s.kill();
  const out = await add;
  assert.equal(out.exitCode, 1, out.stdout);
  assert.equal(out.json?.['code'], 11, `the runtime is told to retry: ${out.stdout}`);
  // Half done, and the in-flight delegate died with the daemon's pod.
  assert.deepEqual((await s.podLinks(pod)).sort(), ['eth0', 'net1']);
  assert.deepEqual(s.strayProcesses(), [], 'no delegate outlives the daemon');
}

async function assertOneSet(s: FaultScene, pod: PodNs, id: string) {
  assert.deepEqual((await s.podLinks(pod)).sort(), ['eth0', 'net1', 'net2']);
  const left = await s.leftovers([pod]);
  assert.equal(left.ips.length, 3, `one address per network: ${left.ips.join(' ')}`);
  assert.deepEqual(
    left.cache.sort(),
    [`plans/${id}`, `results/n1-${id}-net1`, `results/n2-${id}-net2`, `results/podnet-${id}-eth0`].sort(),
  );
  assert.deepEqual(left.processes, []);
}

async function assertClean(s: FaultScene, name: string, pod: PodNs) {
  const left = await s.leftovers([pod]);
  assert.deepEqual(recordLeaks(name, leakList(left)), [], JSON.stringify(left));
  assert.deepEqual(left, NOTHING);
}

describe('daemon killed in the middle of an ADD with three networks', { timeout: 120_000 }, () => {
  scenario('a new daemon; the runtime DELs then ADDs: exactly one set of attachments', async (t) => {
    const s = await threeNetworks(t, 81);
    const pod = await s.topo.addPod();
    await killMidAdd(s, pod, 'k1');
    await s.start();
    const del = await s.call('DEL', 'k1', pod);
    assert.equal(del.exitCode, 0, del.stdout);
    await assertClean(s, 'daemon killed mid-ADD: after the DEL', pod);
    const add = await s.call('ADD', 'k1', pod);
    assert.equal(add.exitCode, 0, add.stdout);
    await assertOneSet(s, pod, 'k1');
    assert.equal((await s.call('DEL', 'k1', pod)).exitCode, 0);
    await assertClean(s, 'daemon killed mid-ADD: after DEL, ADD, DEL', pod);
  });

  scenario('a new daemon; the runtime ADDs again at once: the unfinished ADD is undone first', async (t) => {
    const s = await threeNetworks(t, 82);
    const pod = await s.topo.addPod();
    await killMidAdd(s, pod, 'k2');
    await s.start();
    const add = await s.call('ADD', 'k2', pod);
    assert.equal(add.exitCode, 0, add.stdout);
    await assertOneSet(s, pod, 'k2');
    // Killed again, this time while idle: the next daemon DELs from the plan the first one wrote.
    await s.kill();
    await s.start();
    assert.equal((await s.call('DEL', 'k2', pod)).exitCode, 0);
    await assertClean(s, 'daemon killed mid-ADD, ADD again: after DEL', pod);
  });
});
