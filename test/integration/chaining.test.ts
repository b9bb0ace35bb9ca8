/**
 * A conflist chain bridge → tuning → portmap → bandwidth with capability args, as a runtime
 * sends them: prevResult flows down the chain, runtimeConfig reaches only the plugins that
 * declare the capability, and each plugin's effect is visible in the namespaces.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DelegateError } from '../../src/cni/delegate-error.ts';
import { parseNetworkConfig } from '../../src/cni/network-config.ts';
import { isResult100 } from '../../src/cni/result.ts';
import { allocations, inNetns, linkIn, linksIn, NetnsTopology } from '../support/netns.ts';

const MAC = 'c2:11:22:33:44:55';
const capabilityArgs = {
  mac: MAC,
  portMappings: [{ hostPort: 18080, containerPort: 80, protocol: 'tcp' }],
  bandwidth: { ingressRate: 8_000_000, ingressBurst: 80_000, egressRate: 8_000_000, egressBurst: 80_000 },
  // Offered but declared by no plugin: must not reach any of them.
  ips: ['10.79.0.200/24'],
};

function chain(topo: NetnsTopology, extra: Record<string, unknown> = {}, withPortmap = true) {
  return parseNetworkConfig(
    JSON.stringify({
      cniVersion: '1.0.0',
      name: 'chain',
      ...extra,
      plugins: [
        {
          type: 'bridge',
          bridge: 'mnbr2',
          isGateway: true,
          ipMasq: true,
          ipam: { type: 'host-local', dataDir: topo.dataDir, subnet: '10.79.0.0/24' },
        },
        { type: 'tuning', capabilities: { mac: true }, sysctl: { 'net.ipv4.conf.eth0.arp_notify': '1' } },
        ...(withPortmap ? [{ type: 'portmap', capabilities: { portMappings: true }, snat: true }] : []),
        { type: 'bandwidth', capabilities: { bandwidth: true } },
      ],
    }),
  );
}

const natRules = (topo: NetnsTopology) => inNetns(topo.node, ['iptables-save', '-t', 'nat']);
const ifbs = async (topo: NetnsTopology) =>
  (await linksIn(topo.node)).filter((l) => l.linkinfo?.info_kind === 'ifb').map((l) => l.ifname);

test('chain ADD: each plugin acts, prevResult is chained, DEL undoes all of it', async (t) => {
  const topo = await NetnsTopology.create(t);
  const pod = await topo.addPod();
  const runner = topo.listRunner();
  const list = chain(topo);
  const rt = topo.runtimeConf(pod, 'eth0', { capabilityArgs });

  const result = await runner.add(list, rt);
  assert.ok(isResult100(result));
  // tuning: MAC from the capability, sysctl inside the pod; the result reports the new MAC.
  assert.equal((await linkIn(pod.name, 'eth0'))?.address, MAC);
  assert.equal(result.interfaces?.find((i) => i.name === 'eth0')?.mac, MAC);
  assert.equal((await inNetns(pod.name, ['cat', '/proc/sys/net/ipv4/conf/eth0/arp_notify'])).trim(), '1');
  // The address is host-local's choice, not the undeclared "ips" capability.
  const address = result.ips?.[0]?.address.split('/')[0] ?? '';
  assert.notEqual(address, '10.79.0.200');
  // portmap: a DNAT rule for the host port towards the pod, in the node namespace.
  const nat = await natRules(topo);
  assert.match(nat, /CNI-HOSTPORT-DNAT/);
  assert.match(
    nat,
    new RegExp(`--dport 18080 -j DNAT --to-destination ${address.replaceAll('.', '\\.')}:80`),
  );
  // bandwidth: an ifb device for egress shaping and a tbf qdisc.
  assert.equal((await ifbs(topo)).length, 1);
  assert.match(await inNetns(topo.node, ['tc', 'qdisc', 'show']), /tbf/);

  await runner.del(list, rt);
  assert.equal(await linkIn(pod.name, 'eth0'), undefined);
  assert.doesNotMatch(await natRules(topo), /18080/);
  assert.deepEqual(await ifbs(topo), []);
  assert.deepEqual(await allocations(topo.dataDir, 'chain'), []);
  await runner.del(list, rt);
});

test('CHECK on a chain: passes without portmap; portmap 1.1.1 fails on IPv4-only results; disableCheck skips it', async (t) => {
  const topo = await NetnsTopology.create(t);
  const [a, b] = [await topo.addPod(), await topo.addPod()];
  const runner = topo.listRunner();

  const noPortmap = chain(topo, {}, false);
  const rtA = topo.runtimeConf(a, 'eth0', { capabilityArgs });
  await runner.add(noPortmap, rtA);
  await runner.check(noPortmap, rtA);
  await runner.del(noPortmap, rtA);

  const full = chain(topo);
  const rtB = topo.runtimeConf(b, 'eth0', { capabilityArgs });
  await runner.add(full, rtB);
  // Upstream containernetworking/plugins#819: portmap's CHECK looks for IPv6 chains it never made.
  await assert.rejects(
    runner.check(full, rtB),
    (e: unknown) =>
      e instanceof DelegateError && e.pluginType === 'portmap' && /could not check ipv6 dnat/.test(e.message),
  );
  await runner.check(chain(topo, { disableCheck: true }), rtB);
  await runner.del(full, rtB);
  assert.deepEqual(await allocations(topo.dataDir, 'chain'), []);
});
