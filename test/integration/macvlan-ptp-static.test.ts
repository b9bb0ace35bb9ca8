/**
 * macvlan on a veth master inside the node namespace with static IPAM fed by the `ips`
 * capability (dual-stack, IPv6 from the 2001:db8::/32 documentation prefix), and ptp with
 * host-local, including its host-side end in the node namespace.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseNetworkConfig } from '../../src/cni/network-config.ts';
import { convertResult } from '../../src/cni/result-convert.ts';
import { isResult100, type Result020 } from '../../src/cni/result.ts';
import { addressesOf, allocations, linkIn, linksIn, NetnsTopology, routesIn } from '../support/netns.ts';

test('macvlan + static: addresses from the ips capability, dual-stack result converts down to 0.2.0', async (t) => {
  const topo = await NetnsTopology.create(t);
  const [a, b] = [await topo.addPod(), await topo.addPod()];
  const runner = topo.listRunner();
  const list = parseNetworkConfig(
    JSON.stringify({
      cniVersion: '1.0.0',
      name: 'storage',
      plugins: [
        {
          type: 'macvlan',
          master: topo.master,
          mode: 'bridge',
          capabilities: { ips: true },
          ipam: { type: 'static', routes: [{ dst: '192.0.2.0/24', gw: '10.80.0.1' }] },
        },
      ],
    }),
  );
  const rtA = topo.runtimeConf(a, 'net1', {
    capabilityArgs: { ips: ['10.80.0.10/24', '2001:db8:80::10/64'] },
  });
  const rtB = topo.runtimeConf(b, 'net1', { capabilityArgs: { ips: ['10.80.0.11/24'] } });
  const result = await runner.add(list, rtA);
  await runner.add(list, rtB);

  assert.ok(isResult100(result));
  assert.deepEqual(
    result.ips?.map((ip) => ip.address),
    ['10.80.0.10/24', '2001:db8:80::10/64'],
  );
  const link = await linkIn(a.name, 'net1');
  assert.equal(link?.linkinfo?.info_kind, 'macvlan');
  assert.deepEqual(await addressesOf(a.name, 'net1'), ['10.80.0.10/24', '2001:db8:80::10/64']);
  assert.deepEqual(await addressesOf(b.name, 'net1'), ['10.80.0.11/24']);
  assert.ok((await routesIn(a.name)).some((r) => r.dst === '192.0.2.0/24' && r.gateway === '10.80.0.1'));

  // The real dual-stack output, as a 0.2.0 caller would get it: one address per family.
  const old = convertResult(result, '0.2.0') as Result020;
  assert.equal(old.ip4?.ip, '10.80.0.10/24');
  assert.equal(old.ip6?.ip, '2001:db8:80::10/64');
  assert.deepEqual(old.ip4?.routes, [{ dst: '192.0.2.0/24', gw: '10.80.0.1' }]);

  await runner.check(list, rtA);
  await runner.del(list, rtA);
  await runner.del(list, rtB);
  assert.equal(await linkIn(a.name, 'net1'), undefined);
  assert.equal(await linkIn(b.name, 'net1'), undefined);
  assert.ok(await linkIn(topo.node, topo.master), 'the master is untouched');
});

test('ptp + host-local: veth pair across pod and node, routes, full cleanup', async (t) => {
  const topo = await NetnsTopology.create(t);
  const pod = await topo.addPod();
  const runner = topo.listRunner();
  const list = parseNetworkConfig(
    JSON.stringify({
      cniVersion: '0.4.0',
      name: 'p2p',
      plugins: [
        {
          type: 'ptp',
          ipMasq: false,
          ipam: { type: 'host-local', dataDir: topo.dataDir, subnet: '10.81.0.0/24' },
        },
      ],
    }),
  );
  const rt = topo.runtimeConf(pod);
  const vethsBefore = (await linksIn(topo.node)).filter((l) => l.linkinfo?.info_kind === 'veth').length;
  const result = await runner.add(list, rt);
  assert.equal(result.cniVersion, '0.4.0');
  const ips = 'ips' in result ? (result.ips ?? []) : [];
  assert.equal(ips[0]?.version, '4');
  const [address] = await addressesOf(pod.name, 'eth0');
  assert.equal(address, ips[0]?.address);
  const hostVeths = (await linksIn(topo.node)).filter((l) => l.linkinfo?.info_kind === 'veth');
  assert.equal(hostVeths.length, vethsBefore + 1);
  const hostEnd = hostVeths.find((l) => l.ifname !== 'ens1' && l.ifname !== 'ens1p');
  assert.ok(
    hostEnd?.addr_info?.some((a) => a.local === ips[0]?.gateway),
    'the host end carries the gateway address',
  );

  await runner.check(list, rt);
  await runner.del(list, rt);
  assert.equal(
    (await linksIn(topo.node)).filter((l) => l.linkinfo?.info_kind === 'veth').length,
    vethsBefore,
  );
  assert.deepEqual(await allocations(topo.dataDir, 'p2p'), []);
});
