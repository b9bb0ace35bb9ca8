/**
 * bridge + host-local, run through NetworkListRunner exactly as multinet runs delegates:
 * ADD, CHECK, DEL, DEL again, DEL after the pod namespace is gone, and the libcni cache file.
 */
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseNetworkConfig } from '../../src/cni/network-config.ts';
import { isResult100 } from '../../src/cni/result.ts';
import { addressesOf, allocations, linkIn, linksIn, NetnsTopology, routesIn } from '../support/netns.ts';

function bridgeList(topo: NetnsTopology, name = 'br-net') {
  return parseNetworkConfig(
    JSON.stringify({
      cniVersion: '1.0.0',
      name,
      plugins: [
        {
          type: 'bridge',
          bridge: 'mnbr0',
          isGateway: true,
          ipam: {
            type: 'host-local',
            dataDir: topo.dataDir,
            ranges: [[{ subnet: '10.77.0.0/24' }]],
            routes: [{ dst: '0.0.0.0/0' }],
          },
        },
      ],
    }),
  );
}

test('ADD wires the pod, CHECK passes, DEL releases everything and is idempotent', async (t) => {
  const topo = await NetnsTopology.create(t);
  const pod = await topo.addPod();
  const runner = topo.listRunner();
  const list = bridgeList(topo);
  const rt = topo.runtimeConf(pod);

  const result = await runner.add(list, rt);
  assert.ok(isResult100(result));
  assert.equal(result.cniVersion, '1.0.0');
  const address = result.ips?.[0]?.address ?? '';
  assert.match(address, /^10\.77\.0\.\d+\/24$/);
  const podIf = result.interfaces?.[result.ips?.[0]?.interface ?? -1];
  assert.deepEqual(podIf?.name, 'eth0');
  assert.equal(podIf?.sandbox, pod.path);

  // The pod really has the interface, the address and the default route via the bridge.
  assert.deepEqual(await addressesOf(pod.name, 'eth0'), [address]);
  assert.equal((await linkIn(pod.name, 'eth0'))?.address, podIf?.mac);
  const routes = await routesIn(pod.name);
  assert.ok(
    routes.some((r) => r.dst === 'default' && r.gateway === '10.77.0.1'),
    JSON.stringify(routes),
  );
  // The bridge landed in the node namespace, not in the root namespace.
  assert.equal((await linkIn(topo.node, 'mnbr0'))?.linkinfo?.info_kind, 'bridge');
  assert.deepEqual(await allocations(topo.dataDir, 'br-net'), [address.split('/')[0]]);

  // libcni's cache layout.
  const cacheFile = join(topo.cacheDir, 'results', `br-net-${rt.containerId}-eth0`);
  const record = JSON.parse(await readFile(cacheFile, 'utf8')) as Record<string, unknown>;
  assert.equal(record.kind, 'cniCacheV1');
  assert.equal(Buffer.from(String(record.config), 'base64').toString(), list.bytes);
  assert.deepEqual(record.result, result);
  assert.equal((await stat(cacheFile)).mode & 0o777, 0o600);

  await runner.check(list, rt);

  await runner.del(list, rt);
  assert.equal(await linkIn(pod.name, 'eth0'), undefined);
  assert.deepEqual(await allocations(topo.dataDir, 'br-net'), []);
  await assert.rejects(stat(cacheFile), /ENOENT/);
  await runner.del(list, rt); // a second DEL succeeds (SPEC §2.2)
});

test('DEL after the pod namespace is gone still releases the IP', async (t) => {
  const topo = await NetnsTopology.create(t);
  const [a, b] = [await topo.addPod(), await topo.addPod()];
  const runner = topo.listRunner();
  const list = bridgeList(topo);
  const ra = await runner.add(list, topo.runtimeConf(a));
  const rb = await runner.add(list, topo.runtimeConf(b));
  const [ipA, ipB] = [ra, rb].map((r) => (isResult100(r) ? r.ips?.[0]?.address.split('/')[0] : ''));
  assert.notEqual(ipA, ipB);
  assert.equal((await allocations(topo.dataDir, 'br-net')).length, 2);
  const vethsBefore = (await linksIn(topo.node)).filter((l) => l.linkinfo?.info_kind === 'veth').length;

  await topo.removePod(a);
  await runner.del(list, { ...topo.runtimeConf(a), netns: '' }); // runtimes send an empty CNI_NETNS then
  assert.deepEqual(await allocations(topo.dataDir, 'br-net'), [ipB]);
  // The kernel tears a deleted namespace down asynchronously: wait for the host end to go.
  let vethsAfter = vethsBefore;
  for (let i = 0; i < 50 && vethsAfter !== vethsBefore - 1; i++) {
    await new Promise((r) => setTimeout(r, 50));
    vethsAfter = (await linksIn(topo.node)).filter((l) => l.linkinfo?.info_kind === 'veth').length;
  }
  assert.equal(vethsAfter, vethsBefore - 1, 'the host end went with the pod namespace');
  await runner.del(list, { ...topo.runtimeConf(a), netns: '' });
  await runner.del(list, topo.runtimeConf(b));
  assert.deepEqual(await allocations(topo.dataDir, 'br-net'), []);
});
