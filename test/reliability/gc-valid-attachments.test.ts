/**
 * GC (CNI 1.1 §2 "GC") with a `cni.dev/valid-attachments` list that cannot be read: missing, null,
 * a string, or an entry with no container ID. multinet must refuse it and release nothing; read
 * as "nothing is valid", it used to release the addresses of every running pod, and the next pod
 * got a duplicate address. A key spelled `containerid` is what Go runtimes accept (encoding/json
 * matches keys case-insensitively), so multinet reads it the same way. The thin plugin as shipped
 * runs GC against the real bridge and host-local plugins in a node namespace.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe } from 'node:test';
import { runCni, type CniCall } from '../support/cni-runtime.ts';
import { recordLeaks, scenario } from '../support/fault-report.ts';
import { bridgeNet, buildThinPlugin, podArgs } from '../support/fault-scene.ts';
import { allocations, linkIn, NetnsTopology } from '../support/netns.ts';

const KEY = 'cni.dev/valid-attachments';

describe('GC with an unreadable valid-attachments list releases nothing', { timeout: 120_000 }, () => {
  scenario('missing, null, string or malformed lists fail GC; case-folded keys count', async (t) => {
    const topo = await NetnsTopology.create(t);
    const config = {
      cniVersion: '1.1.0',
      name: 'multinet',
      type: 'multinet',
      clusterNetworkConfig: bridgeNet(topo, 'gcpod', '10.151.0.0/24', 'mngc0'),
      cacheDir: topo.cacheDir,
      binDirs: ['/usr/lib/cni'],
    };
    const call = (c: Omit<CniCall, 'config'>, extra: Record<string, unknown> = {}) =>
      runCni(
        { ...c, config: { ...config, ...extra } },
        { nodeNs: topo.node, hostLocalDir: join(topo.tmpDir, 'host-local'), plugin: buildThinPlugin() },
      );
    const pods = [await topo.addPod(), await topo.addPod()];
    for (const [i, pod] of pods.entries()) {
      const add = await call({
        command: 'ADD',
        containerId: `gc${i}`,
        netns: pod.path,
        args: podArgs(`gc${i}`),
      });
      assert.equal(add.exitCode, 0, add.stdout + add.stderr);
    }
    assert.equal((await allocations(topo.dataDir, 'gcpod')).length, 2);

    const malformed: [string, Record<string, unknown>][] = [
      ['missing', {}],
      ['null', { [KEY]: null }],
      ['a string', { [KEY]: 'gc0,gc1' }],
      ['an entry without a container ID', { [KEY]: [{ containerID: 'gc0' }, { ifname: 'eth0' }] }],
      ['a number as container ID', { [KEY]: [{ containerID: 0, ifname: 'eth0' }] }],
    ];
    for (const [what, extra] of malformed) {
      const gc = await call({ command: 'GC' }, extra);
      assert.notEqual(gc.exitCode, 0, `GC with a list that is ${what} must fail`);
      assert.equal(gc.json?.['code'], 7, `${what}: ${gc.stdout}`);
      assert.match(String(gc.json?.['details']), /valid-attachments.*GC did nothing/, what);
      assert.equal((await allocations(topo.dataDir, 'gcpod')).length, 2, `${what}: nothing released`);
    }
    for (const pod of pods) assert.ok(await linkIn(pod.name, 'eth0'), 'the pods keep their interfaces');

    // Go's spelling tolerance: `containerid` / `IFNAME` name the same fields.
    const folded = await call(
      { command: 'GC' },
      { [KEY]: pods.map((_, i) => ({ containerid: `gc${i}`, IFNAME: 'eth0' })) },
    );
    assert.equal(folded.exitCode, 0, folded.stdout + folded.stderr);
    assert.equal((await allocations(topo.dataDir, 'gcpod')).length, 2, 'both pods are still valid');

    // A well-formed list still collects what is stale: gc1 is gone, gc0 stays.
    const gc = await call({ command: 'GC' }, { [KEY]: [{ containerID: 'gc0', ifname: 'eth0' }] });
    assert.equal(gc.exitCode, 0, gc.stdout + gc.stderr);
    assert.equal((await allocations(topo.dataDir, 'gcpod')).length, 1);
    const del = await call({
      command: 'DEL',
      containerId: 'gc0',
      netns: pods[0]!.path,
      args: podArgs('gc0'),
    });
    assert.equal(del.exitCode, 0, del.stdout + del.stderr);
    assert.deepEqual(recordLeaks('GC: after DEL', await allocations(topo.dataDir, 'gcpod')), []);
  });
});
