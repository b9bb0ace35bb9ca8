import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { injectSelection } from './inject-selection.ts';

const bridge = (capabilities?: Record<string, boolean>) =>
  JSON.stringify({
    cniVersion: '1.0.0',
    name: 'br',
    plugins: [{ type: 'bridge', ipam: { type: 'host-local' }, ...(capabilities ? { capabilities } : {}) }],
  });
const sel = (extra: Record<string, unknown>) => ({ name: 'br', namespace: 'ns', ...extra });

describe('injectSelection: cni-args cannot carry what a capability gates', () => {
  it('refuses mac, ips, ... in cni-args (any case) when no plugin declares the capability', () => {
    for (const [key, capability] of [
      ['mac', 'mac'],
      ['MAC', 'mac'],
      ['ips', 'ips'],
      ['IPs', 'ips'],
      ['infinibandGUID', 'infinibandGUID'],
      ['portMappings', 'portMappings'],
      ['bandwidth', 'bandwidth'],
    ] as const) {
      const out = injectSelection(bridge(), sel({ cniArgs: { [key]: 'x' } }));
      assert.deepEqual(out.missingCapability, { key: `cni-args.${key}`, capability }, key);
    }
  });

  it('passes gated keys when the capability is declared, and other keys always (NPWG §4.1.2.1.6)', () => {
    const mac = '0a:58:0a:00:00:09';
    const out = injectSelection(bridge({ mac: true }), sel({ cniArgs: { mac, note: 'x' } }));
    assert.equal(out.missingCapability, undefined);
    const conf = JSON.parse(out.configText) as { plugins: { args: { cni: unknown } }[] };
    assert.deepEqual(conf.plugins[0]!.args.cni, { mac, note: 'x' });
    assert.equal(injectSelection(bridge(), sel({ cniArgs: { note: 'x' } })).missingCapability, undefined);
  });
});
