import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildMultinetConflist } from './build-multinet-conflist.ts';
import { selectPrimaryConfig } from './primary-config.ts';

const bridge = JSON.stringify({
  cniVersion: '0.4.0',
  name: 'podnet',
  type: 'bridge',
  capabilities: { ips: true },
});
const flannelList = JSON.stringify({
  cniVersion: '1.0.0',
  name: 'cbr0',
  plugins: [
    { type: 'flannel', capabilities: { mac: false } },
    { type: 'portmap', capabilities: { portMappings: true } },
    { type: 'bandwidth', capabilities: { bandwidth: true } },
  ],
});
const ours = JSON.stringify({
  cniVersion: '1.0.0',
  name: 'multinet-cni-network',
  plugins: [{ type: 'multinet-shim' }],
});

describe('selectPrimaryConfig', () => {
  it('takes the lexicographically first usable conf, skipping ours and broken files', () => {
    const { primary, skipped } = selectPrimaryConfig(
      [
        { name: '50-z.conf', content: bridge },
        { name: '00-multinet.conflist', content: ours },
        { name: '05-unreadable.conf', content: undefined },
        { name: '06-empty.conf', content: '  \n' },
        { name: '07-bad.conf', content: '{"name":' },
        { name: '08-self.conflist', content: ours.replace('multinet-cni-network', 'copy') },
        {
          name: '09-thin.conf',
          content: JSON.stringify({ cniVersion: '1.0.0', name: 'm', type: 'multinet' }),
        },
        { name: '10-flannel.conflist', content: flannelList },
        { name: '.10-flannel.conflist.tmp', content: bridge },
        { name: 'README', content: bridge },
      ],
      { ownFileName: '00-multinet.conflist' },
    );
    assert.equal(primary?.name, '10-flannel.conflist');
    assert.deepEqual(
      skipped.map((s) => s.name),
      ['05-unreadable.conf', '06-empty.conf', '07-bad.conf', '08-self.conflist', '09-thin.conf'],
    );
    assert.match(skipped[3]!.reason, /multinet's own/);
  });

  it('accepts .json and honours an explicit file name', () => {
    const entries = [
      { name: '10-a.json', content: bridge },
      { name: '20-b.conflist', content: flannelList },
    ];
    assert.equal(selectPrimaryConfig(entries, { ownFileName: 'x' }).primary?.name, '10-a.json');
    assert.equal(
      selectPrimaryConfig(entries, { ownFileName: 'x', wanted: '20-b.conflist' }).primary?.name,
      '20-b.conflist',
    );
    assert.equal(selectPrimaryConfig(entries, { ownFileName: 'x', wanted: 'nope.conf' }).primary, undefined);
  });

  it('finds nothing in an empty or foreign-only directory', () => {
    assert.equal(selectPrimaryConfig([], { ownFileName: 'x' }).primary, undefined);
    assert.equal(
      selectPrimaryConfig([{ name: '00-multinet.conflist', content: ours }], {
        ownFileName: '00-multinet.conflist',
      }).primary,
      undefined,
    );
  });
});

describe('buildMultinetConflist', () => {
  it('embeds the primary, uses its cniVersion and the union of enabled capabilities', () => {
    const { primary } = selectPrimaryConfig([{ name: '10-flannel.conflist', content: flannelList }], {
      ownFileName: 'x',
    });
    const out = buildMultinetConflist(primary!, {
      networkName: 'multinet-cni-network',
      socketPath: '/run/multinet/multinet.sock',
    });
    assert.deepEqual(out, {
      cniVersion: '1.0.0',
      name: 'multinet-cni-network',
      plugins: [
        {
          type: 'multinet-shim',
          socketPath: '/run/multinet/multinet.sock',
          capabilities: { bandwidth: true, 'io.kubernetes.cri.pod-annotations': true, portMappings: true },
          primaryConfigFile: '10-flannel.conflist',
          clusterNetworkConfig: JSON.parse(flannelList),
        },
      ],
    });
  });

  it('handles a single-plugin .conf (capabilities at top level)', () => {
    const { primary } = selectPrimaryConfig([{ name: '10-bridge.conf', content: bridge }], {
      ownFileName: 'x',
    });
    const out = buildMultinetConflist(primary!, { networkName: 'n', socketPath: '/s' });
    assert.equal(out['cniVersion'], '0.4.0');
    const plugin = (out['plugins'] as Record<string, unknown>[])[0]!;
    assert.deepEqual(plugin['capabilities'], { 'io.kubernetes.cri.pod-annotations': true, ips: true });
    assert.deepEqual(plugin['clusterNetworkConfig'], JSON.parse(bridge));
  });
});
