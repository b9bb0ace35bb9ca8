/**
 * Version negotiation against the plugins' real VERSION answers, and GC/STATUS with plugins
 * that predate CNI 1.1 (1.1.1 speaks up to 1.0.0): GC then only DELs stale cached attachments.
 */
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { DelegateError } from '../../src/cni/delegate-error.ts';
import { parseNetworkConfig } from '../../src/cni/network-config.ts';
import { allocations, linkIn, NetnsTopology } from '../support/netns.ts';

function list(topo: NetnsTopology, versions: Record<string, unknown>) {
  return parseNetworkConfig(
    JSON.stringify({
      name: 'gcnet',
      ...versions,
      plugins: [
        {
          type: 'bridge',
          bridge: 'mnbr4',
          ipam: { type: 'host-local', dataDir: topo.dataDir, subnet: '10.83.0.0/24' },
        },
        { type: 'tuning' },
      ],
    }),
  );
}

test('cniVersions: the highest version every plugin supports is used', async (t) => {
  const topo = await NetnsTopology.create(t);
  const pod = await topo.addPod();
  const offered = list(topo, { cniVersion: '1.1.0', cniVersions: ['0.4.0', '1.0.0', '1.1.0'] });
  const runner = topo.listRunner();
  assert.equal(await runner.resolveVersion(offered, topo.cniPath), '1.0.0');
  const result = await runner.add(offered, topo.runtimeConf(pod));
  assert.equal(result.cniVersion, '1.0.0');
  await runner.check(offered, topo.runtimeConf(pod));
  await runner.del(offered, topo.runtimeConf(pod));

  const strict = topo.listRunner({ negotiateVersions: false });
  await assert.rejects(
    strict.add(offered, topo.runtimeConf(pod)),
    (e: unknown) => e instanceof DelegateError && e.code === 1 && e.pluginType === 'bridge',
  );
  await strict.del(offered, topo.runtimeConf(pod)).catch(() => undefined);
});

test('GC removes stale attachments from the cache and their resources; STATUS below 1.1.0 is ready', async (t) => {
  const topo = await NetnsTopology.create(t);
  const [a, b] = [await topo.addPod(), await topo.addPod()];
  const runner = topo.listRunner();
  const net = list(topo, { cniVersion: '1.0.0', cniVersions: ['1.0.0', '1.1.0'] });
  await runner.add(net, topo.runtimeConf(a));
  await runner.add(net, topo.runtimeConf(b));
  assert.equal((await allocations(topo.dataDir, 'gcnet')).length, 2);

  await runner.gc(net, [{ containerId: topo.runtimeConf(b).containerId, ifName: 'eth0' }], topo.cniPath);
  assert.equal(await linkIn(a.name, 'eth0'), undefined, 'the stale attachment was deleted');
  assert.ok(await linkIn(b.name, 'eth0'), 'the valid one is untouched');
  assert.equal((await allocations(topo.dataDir, 'gcnet')).length, 1);
  assert.deepEqual(await readdir(join(topo.cacheDir, 'results')), [
    `gcnet-${topo.runtimeConf(b).containerId}-eth0`,
  ]);

  await runner.status(net, topo.cniPath);
  await runner.gc(net, [], topo.cniPath);
  assert.deepEqual(await allocations(topo.dataDir, 'gcnet'), []);
  assert.deepEqual(await readdir(join(topo.cacheDir, 'results')), []);
});
