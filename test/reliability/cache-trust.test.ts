/**
 * "A local user becomes root" (issue 10 item 4), with the real thin plugin and the real
 * daemon: a cache directory (or one of its parents) that others may write to, or that another
 * user owns, is refused with an error naming it, before anything runs (a plan forged there would
 * be executed as root by the next DEL); a result cache file swapped for a symlink to a secret is
 * not followed, and no error ever quotes a cache file's content.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe } from 'node:test';
import { toPlanRecord } from '../../src/host/plan-record.ts';
import { runCni } from '../support/cni-runtime.ts';
import { recordLeaks, scenario } from '../support/fault-report.ts';
import { bridgeNet, buildThinPlugin, FaultScene, leakList, podArgs } from '../support/fault-scene.ts';
import { PLUGIN_DIR, type PodNs } from '../support/netns.ts';

const NOBODY = 65534;

async function thinScene(t: Parameters<typeof FaultScene.create>[0], subnet: number) {
  const s = await FaultScene.create(t, (topo) => ({
    primary: bridgeNet(topo, 'podnet', `10.${subnet}.0.0/24`, `mnk${subnet}`),
    bridges: [`mnk${subnet}`],
  }));
  // The node's bin dir (root's, 0755) holds a canary plugin: a forged plan naming it proves execution.
  const bin = join(s.topo.tmpDir, 'node-bin');
  const marker = join(s.topo.tmpDir, 'canary-ran');
  await mkdir(bin, { mode: 0o755 });
  await writeFile(join(bin, 'canary'), `#!/bin/sh\nid > ${marker}\necho '{"cniVersion":"1.0.0"}'\n`, {
    mode: 0o755,
  });
  const thin = (command: 'ADD' | 'DEL' | 'CHECK', id: string, pod: PodNs, cacheDir: string) =>
    runCni(
      {
        command,
        containerId: id,
        netns: pod.path,
        args: podArgs(id),
        config: {
          cniVersion: '1.0.0',
          name: 'multinet',
          type: 'multinet',
          clusterNetworkConfig: bridgeNet(s.topo, 'podnet', `10.${subnet}.0.0/24`, `mnk${subnet}`),
          cacheDir,
          binDirs: [bin, PLUGIN_DIR],
        },
      },
      { nodeNs: s.topo.node, hostLocalDir: join(s.topo.tmpDir, 'host-local'), plugin: buildThinPlugin() },
    );
  return { s, marker, thin };
}

function cniError(out: { exitCode: number; stdout: string; json: Record<string, unknown> | undefined }) {
  assert.equal(out.exitCode, 1, `expected a CNI error, got: ${out.stdout}`);
  return { code: Number(out.json?.['code']), details: String(out.json?.['details'] ?? '') };
}

describe(
  'cache directories only root controls; cache files never followed or quoted',
  { timeout: 120_000 },
  () => {
    scenario(
      'a world-writable cache directory is refused; a plan forged in it is never executed',
      async (t) => {
        const { s, marker, thin } = await thinScene(t, 161);
        const pod = await s.topo.addPod();
        // What an unprivileged user prepared: the directory, open to all, and a plan in it.
        const cacheDir = join(s.topo.tmpDir, 'shared-cache');
        await mkdir(join(cacheDir, 'plans'), { recursive: true });
        await chmod(cacheDir, 0o777);
        await chmod(join(cacheDir, 'plans'), 0o777);
        const forged = toPlanRecord({
          pod: { namespace: 'default', name: 'victim', uid: 'uid-victim' },
          containerId: 'victim',
          netns: pod.path,
          cniArgs: [],
          attachments: [
            {
              network: 'forged',
              ifName: 'eth0',
              isDefault: true,
              configText: JSON.stringify({ cniVersion: '1.0.0', name: 'forged', type: 'canary' }),
              capabilityArgs: {},
            },
          ],
        });
        await writeFile(join(cacheDir, 'plans', 'victim'), forged, { mode: 0o666 });

        const del = cniError(await thin('DEL', 'victim', pod, cacheDir));
        assert.equal(del.code, 5, del.details);
        assert.match(
          del.details,
          /cache directory .*shared-cache is writable by group or others \(mode 777\)/,
        );
        assert.equal(existsSync(marker), false, 'the forged plan ran a plugin');
        const add = cniError(await thin('ADD', 'a1', pod, cacheDir));
        assert.equal(add.code, 5, add.details);
        assert.match(add.details, /pod default\/a1: .*shared-cache is writable by group or others/);
        assert.deepEqual(await s.podLinks(pod), [], 'nothing attached');

        // A parent another user owns is as bad: that user may rename the directory away and replace it.
        const parent = join(s.topo.tmpDir, 'users-dir');
        await mkdir(join(parent, 'cache'), { recursive: true, mode: 0o700 });
        await chown(parent, NOBODY, NOBODY);
        const owned = cniError(await thin('ADD', 'a2', pod, join(parent, 'cache')));
        assert.equal(owned.code, 5, owned.details);
        assert.match(owned.details, /users-dir \(a parent of the cache directory .*\) is owned by uid 65534/);
        assert.equal(existsSync(marker), false);
        assert.deepEqual(await s.podLinks(pod), []);
        assert.deepEqual(
          recordLeaks('cache trust: refused directories', leakList(await s.leftovers([pod]))),
          [],
        );
      },
    );

    scenario('a refused cache directory gets no lock directory or lock file either', async (t) => {
      const { s, thin } = await thinScene(t, 165);
      const pod = await s.topo.addPod();
      // Thin mode locks the container first: the lock directory must pass the same check.
      const cacheDir = join(s.topo.tmpDir, 'open-cache');
      await mkdir(cacheDir, { mode: 0o777 });
      await chmod(cacheDir, 0o777);
      for (const command of ['ADD', 'DEL', 'CHECK'] as const) {
        const out = cniError(await thin(command, 'l1', pod, cacheDir));
        assert.equal(out.code, 5, `${command}: ${out.details}`);
        assert.match(out.details, /cache directory .*open-cache is writable by group or others \(mode 777\)/);
        assert.doesNotMatch(out.details, /cannot lock/, 'said as the plan and result caches say it');
      }
      assert.deepEqual(await readdir(cacheDir), [], 'nothing was created in the refused directory');
      // A lock directory others may write to (the cache directory itself root's) is refused too.
      const cache2 = join(s.topo.tmpDir, 'cache2');
      await mkdir(join(cache2, 'locks'), { recursive: true, mode: 0o700 });
      await chmod(join(cache2, 'locks'), 0o777);
      const add = cniError(await thin('ADD', 'l2', pod, cache2));
      assert.equal(add.code, 5, add.details);
      assert.match(add.details, /lock directory .*locks is writable by group or others \(mode 777\)/);
      assert.deepEqual(await readdir(join(cache2, 'locks')), [], 'no lock file in it');
      assert.deepEqual(await s.podLinks(pod), [], 'nothing attached');
    });

    scenario('the daemon refuses to start on a cache directory others may write to', async (t) => {
      const s = await FaultScene.create(t, (topo) => ({
        primary: bridgeNet(topo, 'podnet', '10.162.0.0/24', 'mnk162'),
        bridges: ['mnk162'],
        mountSetup: 'chmod 0777 "$CACHE"',
      }));
      const d = await s.start({}, { waitReady: false });
      // Either it exits (refused) or it starts listening (the bug): whichever comes first.
      const listening = d
        .waitForLog((l) => l.msg === 'metrics listening')
        .then(
          () => 'listening',
          () => 'exited',
        );
      assert.equal(await Promise.race([d.exited.then(() => 'exited'), listening]), 'exited', d.describe());
      assert.equal(await d.exited, 1, 'the daemon exits with 1');
      assert.match(d.describe(), /cache directory .* is writable by group or others \(mode 777\)/);
    });

    scenario('a result cache file swapped for a symlink is not followed and never quoted', async (t) => {
      const { s, thin } = await thinScene(t, 163);
      const pod = await s.topo.addPod();
      const cacheDir = join(s.topo.tmpDir, 'cache');
      assert.equal((await thin('ADD', 'r1', pod, cacheDir)).exitCode, 0);
      const secret = join(s.topo.tmpDir, 'shadow');
      await writeFile(secret, 'root:$6$SECRETHASHdonotprint:19000:0:99999:7:::\n', { mode: 0o600 });
      const [file] = await readdir(join(cacheDir, 'results'));
      assert.ok(file, 'ADD cached its result');
      await rm(join(cacheDir, 'results', file));
      await symlink(secret, join(cacheDir, 'results', file));
      const check = await thin('CHECK', 'r1', pod, cacheDir);
      assert.equal(check.exitCode, 1, check.stdout);
      assert.ok(!`${check.stdout}${check.stderr}`.includes('SECRETHASH'), `leaked: ${check.stdout}`);
      assert.ok(!`${check.stdout}${check.stderr}`.includes('root:'), `leaked: ${check.stdout}`);
      assert.match(String(check.json?.['details']), /is a symbolic link: refusing to read it/);
      // A file that is not JSON (not a link): the error says so without its bytes.
      await rm(join(cacheDir, 'results', file));
      await writeFile(join(cacheDir, 'results', file), 'root:$6$SECRETHASHdonotprint', { mode: 0o600 });
      const check2 = await thin('CHECK', 'r1', pod, cacheDir);
      assert.equal(check2.exitCode, 1, check2.stdout);
      assert.ok(!check2.stdout.includes('SECRETHASH'), `leaked: ${check2.stdout}`);
      assert.equal((await thin('DEL', 'r1', pod, cacheDir)).exitCode, 0);
      assert.deepEqual(await s.podLinks(pod), []);
    });
  },
);
