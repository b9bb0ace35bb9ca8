// The configs deploy/ ships turn the tenant policy on (docs/security.md): each parses as the node
// would parse it, with a policy that trusts only named namespaces.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { multinetOptionsFromText } from '../cli/multinet-options.ts';
import { parseDaemonConfig } from './daemon-config.ts';
import type { MultinetConfig } from './multinet-config.ts';
import { parseMultinetConfig } from './multinet-config.ts';

function configMapData(dir: string): Record<string, string> {
  const text = readFileSync(new URL(`../../deploy/${dir}/daemonset.yaml`, import.meta.url), 'utf8');
  const docs = parseAllDocuments(text).map(
    (d) => d.toJS() as { kind?: string; data?: Record<string, string> },
  );
  const cm = docs.find((d) => d.kind === 'ConfigMap');
  assert.ok(cm?.data, `deploy/${dir} has a ConfigMap`);
  return cm.data;
}

function assertPolicyOn(config: MultinetConfig, where: string): void {
  const policy = config.tenantPolicy;
  assert.ok(policy, `${where}: tenantPolicy is set`);
  assert.ok(!policy.trustedNamespaces.includes('*'), `${where}: not every namespace is trusted`);
  assert.ok(policy.trustedNamespaces.includes('kube-system'), where);
  for (const dangerous of ['host-device', 'bridge', 'portmap', 'dhcp', 'sriov', 'multinet'])
    assert.ok(!policy.allowedTypes.includes(dangerous), `${where}: ${dangerous} needs a rule`);
}

describe('deploy/ turns the tenant policy on', () => {
  for (const dir of ['thick', 'openshift'])
    it(`deploy/${dir}`, () => {
      assertPolicyOn(parseDaemonConfig(configMapData(dir)['daemon.json']!).engine, dir);
    });

  it('deploy/thin', () => {
    const text = configMapData('thin')['00-multinet.conflist']!;
    assertPolicyOn(parseMultinetConfig(multinetOptionsFromText(text, 'thin')), 'thin');
  });
});
