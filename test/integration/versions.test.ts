/**
 * Every spec version each reference plugin supports (as its own VERSION answer says): ADD prints
 * a result of that version, our parser accepts it, conversion of the REAL output to every other
 * version agrees with what the pod namespace shows, CHECK works from 0.4.0, DEL cleans up.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CniError } from '../../src/cni/cni-error.ts';
import { getVersionInfo } from '../../src/cni/plugin-version-info.ts';
import { parseNetworkConfig } from '../../src/cni/network-config.ts';
import { convertResult } from '../../src/cni/result-convert.ts';
import { isResult020, type CniResult } from '../../src/cni/result.ts';
import { SUPPORTED_VERSIONS, versionAtLeast } from '../../src/cni/versions.ts';
import { addressesOf, allocations, linkIn, NetnsTopology, PLUGIN_DIR } from '../support/netns.ts';

function firstAddress(r: CniResult): string | undefined {
  return isResult020(r) ? r.ip4?.ip : r.ips?.[0]?.address;
}

const plugins: Record<string, (topo: NetnsTopology, subnet: string) => Record<string, unknown>> = {
  bridge: (topo, subnet) => ({ type: 'bridge', bridge: 'mnbr1', ipam: hostLocal(topo, subnet) }),
  ptp: (topo, subnet) => ({ type: 'ptp', ipam: hostLocal(topo, subnet) }),
  macvlan: (topo, subnet) => ({
    type: 'macvlan',
    master: topo.master,
    mode: 'bridge',
    ipam: hostLocal(topo, subnet),
  }),
};
/**
 * Routes carry an explicit gw: plugins 1.1.1 install a gw-less IPAM route via the gateway but
 * CHECK then looks for it without one and fails ("Expected Route ... not found").
 */
function hostLocal(topo: NetnsTopology, subnet: string) {
  const gw = subnet.replace(/0\/24$/, '1');
  return {
    type: 'host-local',
    dataDir: topo.dataDir,
    subnet,
    gateway: gw,
    routes: [{ dst: '10.0.0.0/8', gw }],
  };
}

test('each plugin at each version it supports: ADD, conversion, CHECK, DEL', async (t) => {
  const topo = await NetnsTopology.create(t);
  const runner = topo.listRunner();
  let subnetIndex = 0;
  for (const [type, build] of Object.entries(plugins)) {
    const info = await getVersionInfo(
      { runner: topo.runner(), timeoutMs: 5000 },
      { pluginType: type, pluginPath: `${PLUGIN_DIR}/${type}` },
    );
    const versions = info.supportedVersions.filter((v) =>
      (SUPPORTED_VERSIONS as readonly string[]).includes(v),
    );
    assert.deepEqual(
      versions,
      ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0'],
      `${type} 1.1.1 supports up to 1.0.0`,
    );
    for (const version of versions) {
      await t.test(`${type} ${version}`, async () => {
        const pod = await topo.addPod();
        const name = `${type}-${version.replaceAll('.', '')}`;
        const subnet = `10.78.${subnetIndex++}.0/24`;
        // A single conf (no "plugins"), up-converted like libcni does for .conf files.
        const list = parseNetworkConfig(
          JSON.stringify({ cniVersion: version, name, ...build(topo, subnet) }),
        );
        const rt = topo.runtimeConf(pod, 'net1');
        const result = await runner.add(list, rt);
        assert.equal(result.cniVersion, version, 'the plugin answers in the config version');
        const address = firstAddress(result);
        assert.ok(address?.startsWith(subnet.slice(0, -5)), `${address} in ${subnet}`);
        assert.deepEqual(await addressesOf(pod.name, 'net1'), [address]);
        for (const target of SUPPORTED_VERSIONS) {
          const converted = convertResult(result, target);
          assert.equal(converted.cniVersion, target);
          assert.equal(firstAddress(converted), address, `${version} → ${target}`);
          // Lossless unless an interface-carrying result goes down to 0.1/0.2 (which has no interfaces).
          if (versionAtLeast(target, '0.3.0') || !versionAtLeast(version, '0.3.0')) {
            assert.deepEqual(convertResult(converted, version), result, `${version} → ${target} → back`);
          }
        }
        if (versionAtLeast(version, '0.4.0')) {
          await runner.check(list, rt);
        } else {
          await assert.rejects(runner.check(list, rt), (e: unknown) => e instanceof CniError && e.code === 1);
        }
        await runner.del(list, rt);
        assert.equal(await linkIn(pod.name, 'net1'), undefined);
        assert.deepEqual(await allocations(topo.dataDir, name), []);
      });
    }
  }
});
