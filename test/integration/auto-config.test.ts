/**
 * Automatic configuration with the real daemon, shim and plugins: the primary network's config
 * appears late, changes, disappears and comes back; a daemon restart leaves our config in place.
 */
import assert from 'node:assert/strict';
import { readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { addressesOf, allocations, NetnsTopology } from '../support/netns.ts';
import {
  bridgeConf,
  buildShim,
  daemonDirs,
  podArgs,
  scrape,
  shimCall,
  startDaemon,
  waitFor,
} from './daemon-harness.ts';

describe('automatic configuration (real daemon, shim and plugins)', { timeout: 120_000 }, () => {
  it('follows the primary config: late, changed, removed (ADD → 11), back; survives a restart', async (t) => {
    buildShim();
    const topo = await NetnsTopology.create(t);
    const setup = await daemonDirs(topo);
    const ours = join(setup.confDir, '00-multinet.conflist');
    const primary = join(setup.confDir, '10-podnet.conflist');
    const readOurs = async () => JSON.parse(await readFile(ours, 'utf8')) as Record<string, unknown>;
    const shimConf = {
      cniVersion: '1.0.0',
      name: 'multinet-cni-network',
      plugins: [{ type: 'multinet-shim', socketPath: setup.socketPath }],
    };
    const pods = [await topo.addPod(), await topo.addPod(), await topo.addPod()];
    const add = (i: number) =>
      shimCall(topo, shimConf, {
        command: 'ADD',
        containerId: `c${i}`,
        netns: pods[i]!.path,
        args: podArgs(`p${i}`),
      });
    const del = (i: number) =>
      shimCall(topo, shimConf, {
        command: 'DEL',
        containerId: `c${i}`,
        netns: pods[i]!.path,
        args: podArgs(`p${i}`),
      });

    // 1. No primary yet: nothing written, not ready, ADD answers 11.
    const daemon = await startDaemon(t, topo, setup, {});
    const port = await daemon.metricsPort();
    await assert.rejects(readFile(ours));
    assert.match(scrape(topo, port, '/readyz'), /no primary network config/);
    const early = await add(0);
    assert.equal(early.json?.['code'], 11, early.stdout);
    assert.match(String(early.json?.['msg']), /default network not ready/);

    // 2. The primary appears: our config is written and ADD works.
    await writeFile(primary, JSON.stringify(bridgeConf(topo, { subnet: '10.64.0.0/24', bridge: 'mna0' })));
    await waitFor('00-multinet.conflist', () =>
      readFile(ours).then(
        () => true,
        () => false,
      ),
    );
    const written = await readOurs();
    assert.equal(written['cniVersion'], '1.0.0');
    const plugin = (written['plugins'] as Record<string, unknown>[])[0]!;
    assert.equal(plugin['type'], 'multinet-shim');
    assert.equal(plugin['socketPath'], setup.socketPath);
    assert.deepEqual(plugin['capabilities'], {
      'io.kubernetes.cri.pod-annotations': true,
      portMappings: true,
    });
    const a0 = await add(0);
    assert.equal(a0.exitCode, 0, `${a0.stdout}\n${daemon.describe()}`);
    assert.match((await addressesOf(pods[0]!.name, 'eth0'))[0]!, /^10\.64\.0\./);

    // 3. The primary changes (new subnet): our config follows and new pods get the new network.
    await writeFile(primary, JSON.stringify(bridgeConf(topo, { subnet: '10.65.0.0/24', bridge: 'mna1' })));
    await waitFor('rewritten config', async () => JSON.stringify(await readOurs()).includes('10.65.0.0/24'));
    const a1 = await add(1);
    assert.equal(a1.exitCode, 0, a1.stdout);
    assert.match((await addressesOf(pods[1]!.name, 'eth0'))[0]!, /^10\.65\.0\./);

    // 4. The primary disappears: our file stays, ADD answers 11, DEL still works from the plan.
    await unlink(primary);
    await daemon.waitForLog((l) => /default network unavailable/.test(l.msg));
    assert.ok(await readOurs(), 'our config is left in place');
    const gone = await add(2);
    assert.equal(gone.json?.['code'], 11, gone.stdout);
    assert.match(String(gone.json?.['details']), /no primary network config/);
    assert.equal((await del(0)).exitCode, 0);

    // 5. Restart: the config stays in place across it.
    assert.equal(await daemon.stop(), 0);
    assert.ok(await readOurs());
    const again = await startDaemon(t, topo, setup, {});
    assert.equal((await add(2)).json?.['code'], 11);

    // 6. The primary comes back (first subnet): served again.
    await writeFile(primary, JSON.stringify(bridgeConf(topo, { subnet: '10.64.0.0/24', bridge: 'mna0' })));
    await again.waitForLog((l) => l.msg === 'primary network config found');
    const a2 = await add(2);
    assert.equal(a2.exitCode, 0, a2.stdout);
    assert.equal((await del(1)).exitCode, 0);
    assert.equal((await del(2)).exitCode, 0);
    assert.deepEqual(await allocations(topo.dataDir, 'podnet'), []);
    assert.equal(await again.stop(), 0);
  });
});
