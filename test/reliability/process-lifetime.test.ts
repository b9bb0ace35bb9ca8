/**
 * Delegates must not outlive the multinet process that started them, nor leave processes behind.
 * The daemon runs as the DaemonSet ships it (hostPID: not PID 1 of a PID namespace, so no kernel
 * reaps its delegates for it); the thin plugin runs as a runtime runs it, and is SIGKILLed as a
 * runtime's timeout does. A slow delegate (FAKE fake-slow: sleeps, then runs the real macvlan
 * with host-local) is in flight when its caller dies: it must die too, not allocate after the DEL
 * that answered success. Also: a helper left in a delegate's process group, temporary cache files
 * of writes a kill interrupted, and a real macvlan whose IPAM failed.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdir, readdir, utimes, writeFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CniOutcome } from '../support/cni-runtime.ts';
import { recordLeaks, scenario } from '../support/fault-report.ts';
import { bridgeNet, delegatesOf, FaultScene, leakList, NOTHING, simpleNet } from '../support/fault-scene.ts';
import type { PodNs } from '../support/netns.ts';
import { thinCall } from '../support/thin-call.ts';

const PODS = 5;

/** Waits for `cond`, failing after `ms` (a bound far above what it needs, not a timing claim). */
async function waitFor(what: string, cond: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function assertClean(s: FaultScene, name: string, pods: PodNs[]) {
  const left = await s.leftovers(pods);
  assert.deepEqual(recordLeaks(name, leakList(left)), [], JSON.stringify(left));
  assert.deepEqual(left, NOTHING);
}

/** eth0 from a bridge, net1 from a slow macvlan (the delegate in flight when its caller dies). */
function slowScene(t: Parameters<typeof FaultScene.create>[0], subnet: number) {
  return FaultScene.create(t, (topo) => ({
    primary: bridgeNet(topo, 'podnet', `10.${subnet}.0.0/24`, `mnl${subnet}`),
    networks: {
      'slow.conf': simpleNet(topo, 'slownet', 'fake-slow', `10.${subnet}.1.0/24`, {
        fakeDelegate: 'macvlan',
        // Longer than the 2.5 s, so that the DEL surely comes first on a loaded machine.
        fakeDelaySeconds: 6,
      }),
    },
    daemon: { defaultNetworks: ['slownet'] },
    bridges: [`mnl${subnet}`],
  }));
}

describe('delegates die with the process that started them', { timeout: 600_000 }, () => {
  scenario('thin: the runtime kills the plugin while a slow delegate runs; DEL leaves nothing', async (t) => {
    const s = await slowScene(t, 161);
    const pods: PodNs[] = [];
    for (let i = 0; i < PODS; i++) pods.push(await s.topo.addPod());
    await Promise.all(
      pods.map(async (pod, i) => {
        const id = `tk${i}`;
        let plugin: ChildProcess | undefined;
        const add = thinCall(s, 'ADD', id, pod, { onSpawn: (c) => (plugin = c) });
        await waitFor(`${id}: the slow delegate to run`, () => delegatesOf(id, 'net1').length > 0);
        plugin!.kill('SIGKILL'); // The runtime's timeout.
        assert.notEqual((await add).exitCode, 0);
        const del = await thinCall(s, 'DEL', id, pod);
        assert.equal(del.exitCode, 0, del.stdout + del.stderr);
      }),
    );
    // Before the fix the orphaned delegates woke up after the DELs and allocated.
    await waitFor('every plugin process to end', () => s.strayProcesses().length === 0);
    await assertClean(s, 'thin plugin killed mid-ADD: after DEL', pods);
  });

  scenario(
    'thick: the daemon (not PID 1) is SIGKILLed while slow delegates run; DEL leaves nothing',
    async (t) => {
      const s = await slowScene(t, 162);
      await s.start();
      const pods: PodNs[] = [];
      for (let i = 0; i < PODS; i++) pods.push(await s.topo.addPod());
      const adds = pods.map((pod, i) => s.call('ADD', `dk${i}`, pod));
      for (let i = 0; i < PODS; i++)
        await waitFor(`dk${i}: the slow delegate to run`, () => delegatesOf(`dk${i}`, 'net1').length > 0);
      await s.kill();
      for (const out of await Promise.all(adds)) assert.equal(out.json?.['code'], 11, out.stdout);
      await s.start();
      for (const [i, pod] of pods.entries()) {
        const del = await s.call('DEL', `dk${i}`, pod);
        assert.equal(del.exitCode, 0, del.stdout);
      }
      await waitFor('every plugin process to end', () => s.strayProcesses().length === 0);
      await assertClean(s, 'daemon killed mid-ADD (hostPID): after DEL', pods);
    },
  );

  scenario('a helper a delegate leaves in its process group ends when the delegate exits', async (t) => {
    const s = await FaultScene.create(t, (topo) => ({
      primary: bridgeNet(topo, 'podnet', '10.163.0.0/24', 'mnl163'),
      networks: {
        'orphan.conf': simpleNet(topo, 'orphannet', 'fake-orphan', '10.163.1.0/24', {
          fakeDelegate: 'macvlan',
          fakePidDir: join(topo.tmpDir, 'pids'),
        }),
      },
      daemon: { defaultNetworks: ['orphannet'] },
      bridges: ['mnl163'],
    }));
    await s.start();
    const pod = await s.topo.addPod();
    const add = await s.call('ADD', 'orph1', pod);
    assert.equal(add.exitCode, 0, add.stdout);
    await waitFor('the helper left by ADD to end', () => s.strayProcesses().length === 0, 10_000);
    assert.equal((await s.call('DEL', 'orph1', pod)).exitCode, 0);
    await waitFor('the helper left by DEL to end', () => s.strayProcesses().length === 0, 10_000);
    await assertClean(s, 'helper in the delegate group: after ADD and DEL', [pod]);
  });

  scenario('thin: temporary files of interrupted cache writes are swept once old', async (t) => {
    const s = await slowScene(t, 164);
    await writeFile(
      join(s.multinetConfDir, 'slow.conf'),
      JSON.stringify(simpleNet(s.topo, 'slownet', 'macvlan', '10.164.1.0/24')),
    );
    const pod = await s.topo.addPod();
    const hour = new Date(Date.now() - 3_600_000);
    const old = ['plans/.tc1.0123456789ab.tmp', 'results/.podnet-tc1-eth0.ba9876543210.tmp'];
    const fresh = 'plans/.tc2.00112233aabb.tmp';
    for (const f of [...old, fresh]) {
      await mkdir(join(s.cacheDir, f, '..'), { recursive: true, mode: 0o700 });
      await writeFile(join(s.cacheDir, f), '{"torn', { mode: 0o600 });
    }
    for (const f of old) await utimes(join(s.cacheDir, f), hour, hour);
    const add = await thinCall(s, 'ADD', 'tc1', pod);
    assert.equal(add.exitCode, 0, add.stdout + add.stderr);
    const names = async (sub: string) =>
      (await readdir(join(s.cacheDir, sub))).filter((n) => n.endsWith('.tmp'));
    assert.deepEqual([...(await names('plans')), ...(await names('results'))], ['.tc2.00112233aabb.tmp']);
    // A write that may still be under way (recent) is left alone.
    await rm(join(s.cacheDir, fresh));
    assert.equal((await thinCall(s, 'DEL', 'tc1', pod)).exitCode, 0);
    await assertClean(s, 'thin: swept temporary files, after DEL', [pod]);
  });

  for (const mode of ['thick', 'thin'] as const)
    scenario(`${mode}: a real macvlan whose IPAM fails leaves no link in the pod`, async (t) => {
      const subnet = mode === 'thick' ? 165 : 166;
      const s = await FaultScene.create(t, (topo) => ({
        primary: bridgeNet(topo, 'podnet', `10.${subnet}.0.0/24`, `mnl${subnet}`),
        networks: {
          // host-local refuses this range on ADD and on DEL: macvlan v1.1 then keeps its link.
          'mv.conf': simpleNet(topo, 'badipam', 'macvlan', 'not-a-subnet'),
        },
        daemon: { defaultNetworks: ['badipam'] },
        bridges: [`mnl${subnet}`],
      }));
      const pod = await s.topo.addPod();
      let call: (c: 'ADD' | 'DEL') => Promise<CniOutcome>;
      if (mode === 'thick') {
        await s.start();
        call = (c) => s.call(c, 'mv1', pod);
      } else call = (c) => thinCall(s, c, 'mv1', pod);
      const add = await call('ADD');
      assert.equal(add.exitCode, 1, add.stdout);
      assert.match(String(add.json?.['details'] ?? add.json?.['msg']), /badipam/);
      assert.deepEqual(await s.podLinks(pod), [], 'the failed ADD left nothing in the pod');
      assert.equal((await call('DEL')).exitCode, 0);
      await assertClean(s, `${mode}: macvlan with failing IPAM: after DEL`, [pod]);
    });
});
