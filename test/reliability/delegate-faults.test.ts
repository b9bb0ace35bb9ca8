/**
 * Delegates that misbehave, under the real daemon and shim with the reference plugins doing the
 * real work: each FAKE plugin first lets a real plugin allocate an address and create an
 * interface, then hangs, crashes, fails, prints garbage or keeps its stdout open. ADD must
 * answer a CNI error naming the network and the failure, undo everything at once, and the
 * runtime's DEL must succeed; nothing may be left anywhere.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe } from 'node:test';
import type { CniOutcome } from '../support/cni-runtime.ts';
import { recordLeaks, scenario } from '../support/fault-report.ts';
import { bridgeNet, FaultScene, leakList, NOTHING, simpleNet } from '../support/fault-scene.ts';

async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

function errorOf(out: CniOutcome): { code: number; msg: string; details: string } {
  assert.equal(out.exitCode, 1, `expected a CNI error, got: ${out.stdout}`);
  const j = out.json as { code?: unknown; msg?: unknown; details?: unknown } | undefined;
  assert.ok(j && typeof j.code === 'number' && typeof j.msg === 'string', `not a CNI error: ${out.stdout}`);
  return { code: j.code as number, msg: j.msg as string, details: String(j.details ?? '') };
}

async function assertClean(s: FaultScene, name: string, pods: Parameters<FaultScene['leftovers']>[0]) {
  const left = await s.leftovers(pods);
  assert.deepEqual(recordLeaks(name, leakList(left)), [], JSON.stringify(left));
  assert.deepEqual(left, NOTHING);
}

describe('delegates that hang, crash, fail or print garbage', { timeout: 120_000 }, () => {
  scenario('a delegate that hangs: ADD times out, undoes every attachment, DEL succeeds', async (t) => {
    const s = await FaultScene.create(t, (topo) => ({
      primary: bridgeNet(topo, 'podnet', '10.71.0.0/24', 'mnr0'),
      networks: {
        'hang.conf': simpleNet(topo, 'hangnet', 'fake-hang', '10.71.1.0/24', { fakeDelegate: 'macvlan' }),
      },
      daemon: { defaultNetworks: ['hangnet'], delegateTimeoutSeconds: 2 },
      bridges: ['mnr0'],
    }));
    await s.start();
    const pod = await s.topo.addPod();
    const t0 = Date.now();
    const add = await within(20_000, 'ADD', s.call('ADD', 'hang1', pod));
    const took = Date.now() - t0;
    const e = errorOf(add);
    assert.equal(e.code, 11, 'a timeout is worth retrying');
    assert.match(e.details, /network hangnet/);
    assert.match(e.details, /timed out after 2000 ms/);
    assert.ok(took < 10_000, `ADD took ${took} ms`);
    await assertClean(s, 'hang: after the failed ADD', [pod]);
    assert.equal((await s.call('DEL', 'hang1', pod)).exitCode, 0);
    await assertClean(s, 'hang: after DEL', [pod]);
  });

  for (const mode of ['signal', 'panic'] as const) {
    scenario(`a delegate that crashes (${mode}) after allocating: ADD fails and undoes it`, async (t) => {
      const s = await FaultScene.create(t, (topo) => ({
        primary: bridgeNet(topo, 'podnet', '10.72.0.0/24', 'mnr1'),
        networks: {
          'ok.conf': simpleNet(topo, 'oknet', 'ptp', '10.72.1.0/24'),
          'crash.conf': simpleNet(topo, 'crashnet', 'fake-crash', '10.72.2.0/24', {
            fakeDelegate: 'macvlan',
            fakeCrash: mode,
          }),
        },
        daemon: { defaultNetworks: ['oknet', 'crashnet'] },
        bridges: ['mnr1'],
      }));
      await s.start();
      const pod = await s.topo.addPod();
      const e = errorOf(await s.call('ADD', 'crash1', pod));
      assert.match(e.details, /network crashnet/);
      assert.match(
        e.details,
        mode === 'signal' ? /killed by signal SIGKILL/ : /exit status 2.*panic: runtime error/s,
      );
      await assertClean(s, `crash (${mode}): after the failed ADD`, [pod]);
      assert.equal((await s.call('DEL', 'crash1', pod)).exitCode, 0);
      await assertClean(s, `crash (${mode}): after DEL`, [pod]);
    });
  }

  scenario('the 3rd of 4 networks fails: the first two and the failed one are undone', async (t) => {
    const s = await FaultScene.create(t, (topo) => {
      const counter = join(topo.tmpDir, 'adds');
      const fault = (delegate: string) => ({ fakeDelegate: delegate, fakeCounter: counter, fakeFailOn: 3 });
      const primary = bridgeNet(topo, 'podnet', '10.73.0.0/24', 'mnr2', {
        type: 'fake-fail-nth',
        ...fault('bridge'),
      });
      return {
        primary,
        networks: {
          'n1.conf': simpleNet(topo, 'n1', 'fake-fail-nth', '10.73.1.0/24', fault('ptp')),
          'n2.conf': simpleNet(topo, 'n2', 'fake-fail-nth', '10.73.2.0/24', fault('macvlan')),
          'n3.conf': simpleNet(topo, 'n3', 'fake-fail-nth', '10.73.3.0/24', fault('ptp')),
        },
        daemon: { defaultNetworks: ['n1', 'n2', 'n3'] },
        bridges: ['mnr2'],
      };
    });
    await s.start();
    const pod = await s.topo.addPod();
    const e = errorOf(await s.call('ADD', 'nth1', pod));
    assert.equal(e.code, 11, 'the plugin said 11: that is what the runtime hears');
    assert.match(e.details, /network n2: attaching net2 failed/);
    assert.match(e.details, /fake failure on ADD number 3/);
    await assertClean(s, '3rd of 4: after the failed ADD', [pod]);
    assert.equal((await s.call('DEL', 'nth1', pod)).exitCode, 0);
    await assertClean(s, '3rd of 4: after DEL', [pod]);
    // The kubelet's retry now succeeds (the fault struck once) with exactly four interfaces.
    const again = await s.call('ADD', 'nth1', pod);
    assert.equal(again.exitCode, 0, again.stdout);
    assert.deepEqual((await s.podLinks(pod)).sort(), ['eth0', 'net1', 'net2', 'net3']);
    assert.equal((await s.call('DEL', 'nth1', pod)).exitCode, 0);
    await assertClean(s, '3rd of 4: after the retried ADD and DEL', [pod]);
  });

  scenario('a delegate that prints garbage: binary, 20 MB, truncated, wrong shape', async (t) => {
    const garbageNet = (topo: FaultScene['topo'], kind: string, exit = 0) =>
      simpleNet(topo, 'junk', 'fake-garbage', '10.74.1.0/24', {
        fakeDelegate: 'macvlan',
        fakeGarbage: kind,
        fakeExit: exit,
      });
    const s = await FaultScene.create(t, (topo) => ({
      primary: bridgeNet(topo, 'podnet', '10.74.0.0/24', 'mnr3'),
      networks: { 'junk.conf': garbageNet(topo, 'binary') },
      daemon: { defaultNetworks: ['junk'] },
      bridges: ['mnr3'],
    }));
    await s.start();
    const pod = await s.topo.addPod();
    const cases = [
      ['binary', 0, /junk/],
      ['huge', 0, /junk/],
      ['truncated', 0, /junk/],
      ['wrong-shape', 0, /junk/],
      ['binary', 1, /not a CNI error object/],
    ] as const;
    for (const [i, [kind, exit, pattern]] of cases.entries()) {
      await writeFile(join(s.multinetConfDir, 'junk.conf'), JSON.stringify(garbageNet(s.topo, kind, exit)));
      const add = await within(30_000, `ADD (${kind})`, s.call('ADD', `junk${i}`, pod));
      const e = errorOf(add);
      assert.match(e.details, /network junk: attaching net1 failed/, `${kind}: ${add.stdout.slice(0, 500)}`);
      assert.match(e.details, pattern);
      assert.ok(add.stdout.length < 16_384, `${kind}: the answer is bounded (${add.stdout.length} bytes)`);
      await assertClean(s, `garbage (${kind}, exit ${exit}): after the failed ADD`, [pod]);
      assert.equal((await s.call('DEL', `junk${i}`, pod)).exitCode, 0);
    }
    await assertClean(s, 'garbage: after DEL', [pod]);
    // The daemon is still healthy and serves a normal pod.
    await writeFile(
      join(s.multinetConfDir, 'junk.conf'),
      JSON.stringify(simpleNet(s.topo, 'junk', 'macvlan', '10.74.1.0/24')),
    );
    assert.equal((await s.call('ADD', 'junk-ok', pod)).exitCode, 0);
    assert.equal((await s.call('DEL', 'junk-ok', pod)).exitCode, 0);
    await assertClean(s, 'garbage: after a normal ADD and DEL', [pod]);
  });

  scenario('a delegate that leaves a process holding its stdout: ADD still answers', async (t) => {
    const s = await FaultScene.create(t, (topo) => ({
      primary: bridgeNet(topo, 'podnet', '10.75.0.0/24', 'mnr4'),
      networks: {
        'linger.conf': simpleNet(topo, 'lingernet', 'fake-linger', '10.75.1.0/24', {
          fakeDelegate: 'macvlan',
          fakePidDir: join(topo.tmpDir, 'pids'),
        }),
      },
      daemon: { defaultNetworks: ['lingernet'], delegateTimeoutSeconds: 5 },
      bridges: ['mnr4'],
    }));
    await s.start();
    const pod = await s.topo.addPod();
    const t0 = Date.now();
    const add = await within(20_000, 'ADD', s.call('ADD', 'linger1', pod));
    assert.equal(add.exitCode, 0, add.stdout);
    assert.ok(Date.now() - t0 < 5_000, `ADD took ${Date.now() - t0} ms: it waited for the stray process`);
    assert.deepEqual((await s.podLinks(pod)).sort(), ['eth0', 'net1']);
    assert.equal((await s.call('DEL', 'linger1', pod)).exitCode, 0);
    await s.killStrays();
    await assertClean(s, 'lingering stdout: after DEL', [pod]);
  });
});
