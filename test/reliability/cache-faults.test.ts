/**
 * multinet's cache directory misbehaving: read-only, full (a tiny tmpfs mounted in the daemon's
 * private mount namespace, so the machine's mounts are never touched), and cache files truncated
 * or corrupted between ADD and DEL. ADD must fail cleanly with an I/O error and leave nothing;
 * DEL must release every address it can find and say what it could not.
 */
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe } from 'node:test';
import type { CniOutcome } from '../support/cni-runtime.ts';
import { recordLeaks, scenario } from '../support/fault-report.ts';
import { bridgeNet, FaultScene, leakList, NOTHING, simpleNet } from '../support/fault-scene.ts';
import type { PodNs } from '../support/netns.ts';

const TMPFS = 'mount -t tmpfs -o size=256k,mode=0700 multinet-test-cache "$CACHE"';

async function scene(t: Parameters<typeof FaultScene.create>[0], subnet: number, mountSetup?: string) {
  const s = await FaultScene.create(t, (topo) => ({
    primary: bridgeNet(topo, 'podnet', `10.${subnet}.0.0/24`, `mnc${subnet}`),
    networks: {
      'n1.conf': simpleNet(topo, 'n1', 'ptp', `10.${subnet}.1.0/24`),
      'n2.conf': simpleNet(topo, 'n2', 'macvlan', `10.${subnet}.2.0/24`),
    },
    daemon: { defaultNetworks: ['n1', 'n2'] },
    bridges: [`mnc${subnet}`],
    ...(mountSetup ? { mountSetup } : {}),
  }));
  await s.start();
  return s;
}

function errorOf(out: CniOutcome): { code: number; details: string } {
  assert.equal(out.exitCode, 1, `expected a CNI error, got: ${out.stdout}`);
  const j = out.json as { code?: unknown; details?: unknown };
  return { code: Number(j.code), details: String(j.details ?? '') };
}

async function assertClean(s: FaultScene, name: string, pods: PodNs[]) {
  const left = await s.leftovers(pods);
  assert.deepEqual(recordLeaks(name, leakList(left)), [], JSON.stringify(left));
  assert.deepEqual(left, NOTHING);
}

describe('cache directory read-only, full, or holding corrupt files', { timeout: 120_000 }, () => {
  scenario(
    'read-only cache: ADD fails with an I/O error naming it and runs nothing; DEL succeeds',
    async (t) => {
      const s = await scene(t, 91, `${TMPFS}\nmount -o remount,ro "$CACHE"`);
      const pod = await s.topo.addPod();
      const e = errorOf(await s.call('ADD', 'ro1', pod));
      assert.equal(e.code, 5, 'CNI code 5: I/O failure');
      assert.match(e.details, /cannot write the plan cache: .*read-only file system/i);
      assert.ok(e.details.includes(s.cacheDir), `names the directory: ${e.details}`);
      await assertClean(s, 'read-only cache: after ADD', [pod]);
      assert.equal((await s.call('DEL', 'ro1', pod)).exitCode, 0);
      await assertClean(s, 'read-only cache: after DEL', [pod]);
    },
  );

  scenario('full cache: ADD fails and undoes, whether the plan or a result cannot be written', async (t) => {
    const s = await scene(t, 92, TMPFS);
    const pod = await s.topo.addPod();
    // Completely full: the plan cannot be written, nothing runs.
    await s.inDaemonMounts(`head -c 1000000 /dev/zero > "${s.cacheDir}/filler" 2>/dev/null || true`);
    const full = errorOf(await s.call('ADD', 'full1', pod));
    assert.equal(full.code, 5);
    assert.match(full.details, /cannot write the plan cache: .*no space left on device/i);
    // Room for the plan but not for every result: the delegates ran and must be undone.
    for (const free of [4096, 8192]) {
      await s.inDaemonMounts(
        `rm -f "${s.cacheDir}/filler"; head -c 1000000 /dev/zero > "${s.cacheDir}/filler" 2>/dev/null || true; truncate -s -${free} "${s.cacheDir}/filler"`,
      );
      const partly = errorOf(await s.call('ADD', `full-${free}`, pod));
      assert.match(partly.details, /no space left on device/i, `${free} bytes free: ${partly.details}`);
      await assertClean(s, `full cache (${free} bytes free): after ADD`, [pod]);
      assert.equal((await s.call('DEL', `full-${free}`, pod)).exitCode, 0);
    }
    await s.inDaemonMounts(`rm -f "${s.cacheDir}/filler"`);
    assert.equal((await s.call('ADD', 'full2', pod)).exitCode, 0, 'works again once there is room');
    assert.equal((await s.call('DEL', 'full2', pod)).exitCode, 0);
    assert.equal((await s.call('DEL', 'full1', pod)).exitCode, 0);
    await assertClean(s, 'full cache: after DEL', [pod]);
  });

  scenario(
    'cache read-only between ADD and DEL: DEL releases every address and says what it could not remove',
    async (t) => {
      const s = await scene(t, 93, TMPFS);
      const pod = await s.topo.addPod();
      assert.equal((await s.call('ADD', 'ro2', pod)).exitCode, 0);
      await s.inDaemonMounts(`mount -o remount,ro "${s.cacheDir}"`);
      const e = errorOf(await s.call('DEL', 'ro2', pod));
      assert.equal(e.code, 11, 'the runtime retries the DEL');
      assert.match(e.details, /read-only file system/i);
      const left = await s.leftovers([pod]);
      assert.deepEqual(left.podLinks, [], 'interfaces removed');
      assert.deepEqual(left.ips, [], 'addresses released');
      assert.ok(left.cache.length > 0, 'the cache files stay until they can be removed');
      await s.inDaemonMounts(`mount -o remount,rw "${s.cacheDir}"`);
      assert.equal((await s.call('DEL', 'ro2', pod)).exitCode, 0);
      await assertClean(s, 'cache read-only at DEL: after the retried DEL', [pod]);
    },
  );

  for (const damage of ['truncated', 'garbage', 'emptied'] as const) {
    scenario(
      `${damage === 'emptied' ? 'an' : 'a'} ${damage} plan file: DEL still releases every network`,
      async (t) => {
        const s = await scene(t, 94, undefined);
        const pod = await s.topo.addPod();
        assert.equal((await s.call('ADD', 'cp1', pod)).exitCode, 0);
        const plan = s.daemonPath(join(s.cacheDir, 'plans', 'cp1'));
        const text = await readFile(plan, 'utf8');
        await writeFile(
          plan,
          damage === 'truncated'
            ? text.slice(0, text.length / 2)
            : damage === 'garbage'
              ? '\u0000\u00ff{"kind":'
              : '',
        );
        // The network's config changed since ADD: only the result cache still knows the original.
        await rm(join(s.multinetConfDir, 'n2.conf'));
        const del = await s.call('DEL', 'cp1', pod);
        assert.equal(del.exitCode, 0, del.stdout);
        const said = s.daemon!.logs.find((l) => /plan cache unreadable/.test(l.msg));
        assert.ok(said, `the daemon says the plan was unreadable:\n${s.daemon!.describe()}`);
        await assertClean(s, `${damage} plan: after DEL`, [pod]);
      },
    );
  }

  scenario('a corrupt result cache file: DEL still releases that network', async (t) => {
    const s = await scene(t, 95, undefined);
    const pod = await s.topo.addPod();
    assert.equal((await s.call('ADD', 'cr1', pod)).exitCode, 0);
    await writeFile(s.daemonPath(join(s.cacheDir, 'results', 'n1-cr1-net1')), '{"kind":"cniCacheV1","conf');
    await writeFile(s.daemonPath(join(s.cacheDir, 'results', 'podnet-cr1-eth0')), '');
    const del = await s.call('DEL', 'cr1', pod);
    assert.equal(del.exitCode, 0, del.stdout);
    await assertClean(s, 'corrupt result cache: after DEL', [pod]);
  });
});
