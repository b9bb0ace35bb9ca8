import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTenantPolicy } from '../config/tenant-policy.ts';
import type { PolicySubject } from './tenant-policy-check.ts';
import { findPolicyViolation } from './tenant-policy-check.ts';

const policy = parseTenantPolicy(
  {
    trustedNamespaces: ['kube-system', 'admin-*'],
    allowedTypes: ['macvlan', 'host-local', 'tuning'],
    reservedNetworkNames: ['storage'],
    rules: [
      {
        namespaces: ['team-a'],
        masters: ['ens1', 'vlan*'],
        types: ['portmap'],
        hostPorts: ['8080', '30000-30100'],
      },
      {
        namespaces: ['team-a', 'team-b'],
        types: ['bridge', 'host-device'],
        bridges: ['br-team'],
        devices: ['eth9'],
      },
      { namespaces: ['*'], paths: ['/var/lib/cni/tenants/*'] },
    ],
  },
  ['kube-system'],
);
const reserved = new Set(['podnet', 'storage']);

const conf = (plugin: Record<string, unknown>, name = 'mine') =>
  JSON.stringify({ cniVersion: '1.0.0', name, plugins: [plugin] });
const subject = (owner: string | undefined, configText: string, extra: Partial<PolicySubject> = {}) => ({
  network: `${owner ?? 'node'}/net`,
  owner,
  podNamespace: owner,
  configText,
  capabilityArgs: {},
  ...extra,
});
const check = (s: PolicySubject) => findPolicyViolation(policy, s, reserved);

describe('tenant policy: what an untrusted namespace may name', () => {
  it('allows what the rules of the namespace allow, and everything in trusted namespaces', () => {
    assert.equal(
      check(subject('team-a', conf({ type: 'macvlan', master: 'vlan100', ipam: { type: 'host-local' } })))
        ?.what,
      undefined,
    );
    assert.equal(check(subject('team-b', conf({ type: 'bridge', bridge: 'br-team' }))), undefined);
    assert.equal(
      check(subject('kube-system', conf({ type: 'host-device', device: 'eth0' }, 'podnet'))),
      undefined,
    );
    assert.equal(check(subject('admin-net', conf({ type: 'sh' }))), undefined, 'prefix pattern');
    assert.equal(
      check(subject(undefined, conf({ type: 'host-device', device: 'eth0' }))),
      undefined,
      'node file',
    );
    assert.equal(
      findPolicyViolation(undefined, subject('team-z', conf({ type: 'sh' })), reserved),
      undefined,
    );
  });

  it('refuses types no rule allows, in every plugin of a list and in ipam', () => {
    const v = check(subject('team-a', conf({ type: 'macvlan', master: 'ens1', ipam: { type: 'dhcp' } })));
    assert.equal(v?.what, 'plugins[0].ipam type "dhcp"');
    assert.equal(
      v!.rule,
      'type "dhcp" is in neither tenantPolicy.allowedTypes nor the types of tenantPolicy.rules[0], rules[1], rules[2] (the rules for namespace "team-a")',
    );
    const b = check(subject('team-b', conf({ type: 'ptp' })));
    assert.match(b!.rule, /rules\[1\], rules\[2\] \(the rules for namespace "team-b"\)$/);
    assert.match(
      check(subject('team-z', conf({ type: 'ptp' })))!.rule,
      /nor the types of tenantPolicy\.rules\[2\] \(the rules for namespace "team-z"\)$/,
    );
    const none = parseTenantPolicy({ rules: [{ namespaces: ['team-a'], masters: ['ens1'] }] }, []);
    assert.equal(
      findPolicyViolation(none, subject('team-b', conf({ type: 'ptp' })), reserved)?.rule,
      'type "ptp" is not in tenantPolicy.allowedTypes, and no rule of tenantPolicy.rules names namespace "team-b"',
    );
    assert.equal(
      findPolicyViolation(none, subject('team-a', conf({ type: 'macvlan', master: 'ens2' })), reserved)?.rule,
      'type "macvlan" is in neither tenantPolicy.allowedTypes nor the types of tenantPolicy.rules[0] (the rules for namespace "team-a")',
    );
    const list = JSON.stringify({
      cniVersion: '1.0.0',
      name: 'mine',
      plugins: [{ type: 'tuning' }, { type: 'firewall' }],
    });
    assert.equal(check(subject('team-a', list))?.what, 'plugins[1] type "firewall"');
    const single = JSON.stringify({ cniVersion: '1.0.0', name: 'mine', type: 'vlan', master: 'ens1' });
    assert.equal(check(subject('team-a', single))?.what, 'config type "vlan"');
  });

  it('refuses host resources no rule of the namespace names, defaults included', () => {
    const cases: [string, Record<string, unknown>, string][] = [
      ['team-b', { type: 'macvlan', master: 'ens1' }, 'plugins[0] (macvlan) "master" = "ens1"'],
      ['team-a', { type: 'macvlan' }, 'plugins[0] (macvlan) "master" = "(the default-route interface)"'],
      ['team-a', { type: 'bridge', bridge: 'cni0' }, 'plugins[0] (bridge) "bridge" = "cni0"'],
      ['team-a', { type: 'bridge' }, 'plugins[0] (bridge) "bridge" = "cni0"'],
      ['team-a', { type: 'host-device', device: 'ens1' }, 'plugins[0] (host-device) "device" = "ens1"'],
      [
        'team-a',
        { type: 'host-device', hwaddr: '0a:00:00:00:00:01' },
        'plugins[0] (host-device) "hwaddr" = "0a:00:00:00:00:01"',
      ],
      [
        'team-a',
        { type: 'macvlan', master: 'ens1', ipam: { type: 'host-local', dataDir: '/etc' } },
        'plugins[0].ipam (host-local) "dataDir" = "/etc"',
      ],
      [
        'team-a',
        { type: 'portmap', runtimeConfig: { portMappings: [{ hostPort: 22, containerPort: 22 }] } },
        'plugins[0] (portmap) runtimeConfig.portMappings hostPort 22',
      ],
    ];
    for (const [ns, plugin, what] of cases) assert.equal(check(subject(ns, conf(plugin)))?.what, what, what);
    const ok = {
      type: 'macvlan',
      master: 'ens1',
      ipam: { type: 'host-local', dataDir: '/var/lib/cni/tenants/a' },
    };
    assert.equal(check(subject('team-a', conf(ok))), undefined);
  });

  it('refuses reserved CNI network names to tenants', () => {
    const v = check(subject('team-a', conf({ type: 'tuning' }, 'podnet')));
    assert.equal(v?.what, 'CNI network name "podnet"');
    assert.match(v!.rule, /reserved/);
  });

  it('checks the host ports a pod of an untrusted namespace asks for, on any network', () => {
    const admin = conf({ type: 'portmap', capabilities: { portMappings: true } }, 'pm');
    const ask = (ns: string, hostPort: number) =>
      check(
        subject(undefined, admin, {
          podNamespace: ns,
          capabilityArgs: { portMappings: [{ hostPort, containerPort: 80, protocol: 'tcp' }] },
        }),
      );
    assert.equal(ask('team-a', 8080), undefined);
    assert.equal(ask('team-a', 30050), undefined, 'inside the range');
    assert.equal(ask('team-a', 22)?.what, "the pod's portMappings hostPort 22");
    assert.equal(ask('team-b', 8080)?.what, "the pod's portMappings hostPort 8080");
    assert.equal(ask('kube-system', 22), undefined);
  });
});

describe('parseTenantPolicy', () => {
  it('is undefined without the key, and defaults trustedNamespaces to the given ones', () => {
    assert.equal(parseTenantPolicy(undefined, ['kube-system']), undefined);
    assert.deepEqual(parseTenantPolicy({}, ['kube-system']), {
      trustedNamespaces: ['kube-system'],
      allowedTypes: [],
      reservedNetworkNames: [],
      rules: [],
    });
  });

  it('refuses unknown keys, wrong shapes and bad port ranges, naming the key', () => {
    for (const [raw, key] of [
      [{ trustedNamespace: ['x'] }, 'tenantPolicy.trustedNamespace'],
      [{ rules: [{ namespaces: ['a'], master: ['x'] }] }, 'tenantPolicy.rules[0].master'],
      [{ rules: {} }, 'tenantPolicy.rules'],
      [{ allowedTypes: 'macvlan' }, 'tenantPolicy.allowedTypes'],
      [{ rules: [{ hostPorts: ['80-'] }] }, 'tenantPolicy.rules[0].hostPorts'],
      ['on', 'tenantPolicy'],
    ] as const)
      assert.throws(
        () => parseTenantPolicy(raw, []),
        (e: Error) => e.message.includes(`"${key}"`),
        key,
      );
  });

  it('"*" in trustedNamespaces trusts every namespace (Multus behaviour)', () => {
    const all = parseTenantPolicy({ trustedNamespaces: ['*'] }, []);
    assert.equal(
      findPolicyViolation(
        all,
        subject('team-z', conf({ type: 'host-device', device: 'eth0' }, 'podnet')),
        reserved,
      ),
      undefined,
    );
  });
});
