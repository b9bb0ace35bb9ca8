/**
 * Thin mode runs every CNI call in its own process, so two calls for one container (a runtime
 * that crashed and retried, a DEL sent after a timeout) can run at once. They are serialised per
 * container across processes by a flock(2) lock under the root-only cache directory, which the
 * kernel drops when its holder dies. Real thin plugin processes, real bridge + macvlan +
 * host-local in namespaces; net1 is slowed (FAKE fake-slow) so that the calls surely overlap.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { recordLeaks, scenario } from '../support/fault-report.ts';
import { waitFor } from '../integration/daemon-harness.ts';
import { bridgeNet, delegatesOf, FaultScene, leakList, NOTHING, simpleNet } from '../support/fault-scene.ts';
import { addressesOf, allocations, linkIn, type PodNs } from '../support/netns.ts';
import { thinCall } from '../support/thin-call.ts';

const PODS = 6;

function scene(t: Parameters<typeof FaultScene.create>[0], subnet: number) {
  return FaultScene.create(t, (topo) => ({
    primary: bridgeNet(topo, 'podnet', `10.${subnet}.0.0/24`, `mnt${subnet}`),
    networks: {
      'slow.conf': simpleNet(topo, 'slownet', 'fake-slow', `10.${subnet}.1.0/24`, {
        fakeDelegate: 'macvlan',
        fakeDelaySeconds: 1,
      }),
    },
    daemon: { defaultNetworks: ['slownet'] },
    bridges: [`mnt${subnet}`],
  }));
}

async function pods(s: FaultScene): Promise<PodNs[]> {
  const out: PodNs[] = [];
  for (let i = 0; i < PODS; i++) out.push(await s.topo.addPod());
  return out;
}

/** eth0 and net1 with one address each, or nothing at all. */
async function stateOf(s: FaultScene, pod: PodNs, id: string): Promise<'full' | 'none' | string> {
  const links = (await s.podLinks(pod)).sort().join(',');
  let ips = 0;
  // host-local's reservation file holds the container ID and the interface.
  // (Other pods' reservations may go while this reads: their calls run meanwhile.)
  for (const net of ['podnet', 'slownet'])
    for (const a of await allocations(s.topo.dataDir, net))
      if ((await readFile(join(s.topo.dataDir, net, a), 'utf8').catch(() => '')).split(/\s+/)[0] === id)
        ips++;
  if (links === 'eth0,net1' && ips === 2) return 'full';
  if (links === '' && ips === 0) return 'none';
  return `links [${links}], ${ips} addresses`;
}

async function delAll(s: FaultScene, list: PodNs[], prefix: string): Promise<void> {
  for (const [i, pod] of list.entries()) {
    const del = await thinCall(s, 'DEL', `${prefix}${i}`, pod);
    assert.equal(del.exitCode, 0, del.stdout + del.stderr);
  }
}

async function assertClean(s: FaultScene, name: string, list: PodNs[]) {
  const left = await s.leftovers(list);
  assert.deepEqual(recordLeaks(name, leakList(left)), [], JSON.stringify(left));
  assert.deepEqual(left, NOTHING);
}

describe('thin mode: calls for one container are serialised across processes', { timeout: 600_000 }, () => {
  scenario('the same container ADDed twice at once: every success has all its interfaces', async (t) => {
    const s = await scene(t, 171);
    const list = await pods(s);
    await Promise.all(
      list.map(async (pod, i) => {
        const id = `aa${i}`;
        const outs = await Promise.all([thinCall(s, 'ADD', id, pod), thinCall(s, 'ADD', id, pod)]);
        const ok = outs.filter((o) => o.exitCode === 0);
        assert.ok(ok.length > 0, `${id}: neither ADD succeeded: ${outs.map((o) => o.stdout).join(' | ')}`);
        assert.equal(await stateOf(s, pod, id), 'full', `${id}: ${ok.length} ADD(s) said success`);
      }),
    );
    await delAll(s, list, 'aa');
    await assertClean(s, 'thin ADD/ADD race: after DEL', list);
  });

  scenario('ADD and DEL of one container at once: a full set or nothing, never half', async (t) => {
    const s = await scene(t, 172);
    const list = await pods(s);
    await Promise.all(
      list.map(async (pod, i) => {
        const id = `ad${i}`;
        const add = thinCall(s, 'ADD', id, pod);
        // The DEL a runtime sends while its ADD still runs (e.g. after a timeout it did not enforce).
        await sleep(300 + i * 100);
        const del = await thinCall(s, 'DEL', id, pod);
        assert.equal(del.exitCode, 0, del.stdout + del.stderr);
        const a = await add;
        const state = await stateOf(s, pod, id);
        // Serialised, the DEL ran wholly before or after the ADD.
        assert.ok(state === 'none' || (state === 'full' && a.exitCode === 0), `${id}: ${state}`);
      }),
    );
    await delAll(s, list, 'ad');
    await assertClean(s, 'thin ADD/DEL race: after DEL', list);
  });

  scenario('a holder killed while it holds the lock does not wedge the container', async (t) => {
    const s = await scene(t, 173);
    const pod = await s.topo.addPod();
    let plugin: ChildProcess | undefined;
    const first = thinCall(s, 'ADD', 'kh1', pod, { onSpawn: (c) => (plugin = c) });
    const lockFile = join(s.cacheDir, 'locks', 'kh1');
    // The plan exists once the holder runs its delegates (it is written under the lock).
    const planned = async () =>
      (await readdir(join(s.cacheDir, 'plans')).catch(() => [] as string[])).includes('kh1');
    // Kill it while net1's slow delegate runs, after eth0's bridge plugin has finished: a bridge
    // plugin killed between attaching the first veth and pinning the bridge's MAC leaves a
    // bridge whose MAC falls to 00:00:00:00:00:00 once that veth goes, and every later bridge ADD
    // on it fails with "could not set bridge's mac: invalid argument" (a plugin quirk, not the
    // lock this test is about).
    const eth0Done = async () => {
      const br = await linkIn(s.topo.node, 'mnt173');
      return (
        (await planned()) &&
        (await addressesOf(pod.name, 'eth0')).length > 0 &&
        br !== undefined &&
        br.address !== '00:00:00:00:00:00' &&
        (br.addr_info ?? []).some((a) => a.family === 'inet')
      );
    };
    for (const end = Date.now() + 20_000; !(await eth0Done()); await sleep(25))
      if (Date.now() > end) throw new Error('the first ADD never reached its second network');
    await waitFor("net1's slow delegate to start", () => delegatesOf('kh1', 'net1').length > 0);
    assert.ok((await readdir(join(s.cacheDir, 'locks'))).includes('kh1'), `${lockFile} exists`);
    plugin!.kill('SIGKILL');
    assert.notEqual((await first).exitCode, 0);
    // The lock file stays; its lock died with the process.
    const again = await thinCall(s, 'ADD', 'kh1', pod);
    assert.equal(again.exitCode, 0, again.stdout + again.stderr);
    assert.equal(await stateOf(s, pod, 'kh1'), 'full');
    assert.equal((await thinCall(s, 'DEL', 'kh1', pod)).exitCode, 0);
    assert.deepEqual(
      await readdir(join(s.cacheDir, 'locks')),
      [],
      'every finished call removes its lock file',
    );
    await assertClean(s, 'thin: killed lock holder, ADD again, DEL', [pod]);
  });
});
