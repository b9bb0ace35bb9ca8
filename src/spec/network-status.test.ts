import { deepStrictEqual, ok, throws } from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { NetworkStatus, StatusResultInput } from './network-status.ts';
import { buildNetworkStatus, formatNetworkStatus, parseNetworkStatus } from './network-status.ts';
import { SpecError } from './spec-error.ts';

const NETNS = '/var/run/netns/pod';
const bridgeResult: StatusResultInput = {
  interfaces: [
    { name: 'cni0', mac: '0a:00:00:00:00:01' },
    { name: 'veth1234', mac: '0a:00:00:00:00:02' },
    { name: 'eth0', mac: '0a:00:00:00:00:03', mtu: 1450, sandbox: NETNS },
  ],
  ips: [{ address: '10.244.0.5/24', gateway: '10.244.0.1', interface: 2 }],
  routes: [{ dst: '0.0.0.0/0', gw: '10.244.0.1' }, { dst: '10.96.0.0/12' }],
  dns: { nameservers: ['10.96.0.10'], search: ['svc.cluster.local'] },
};

describe('buildNetworkStatus (spec §5)', () => {
  it('takes the sandbox interface of a bridge result, IPs without prefix', () => {
    deepStrictEqual(
      buildNetworkStatus({ network: 'cbr0', isDefault: true, ifName: 'eth0', result: bridgeResult }),
      [
        {
          name: 'cbr0',
          interface: 'eth0',
          ips: ['10.244.0.5'],
          mac: '0a:00:00:00:00:03',
          mtu: 1450,
          default: true,
          dns: { nameservers: ['10.96.0.10'], search: ['svc.cluster.local'] },
          gateway: ['10.244.0.1'],
        },
      ],
    );
  });

  it('writes one entry per sandbox interface, the requested interface first and marked default', () => {
    const result: StatusResultInput = {
      interfaces: [
        { name: 'side0', mac: '02:00:00:00:00:01', sandbox: NETNS },
        { name: 'host0' },
        { name: 'net1', mac: '02:00:00:00:00:02', sandbox: NETNS },
      ],
      ips: [
        { address: '192.168.1.5/24', interface: 0 },
        { address: '192.168.2.5/24', interface: 2 },
        { address: '192.168.3.5/24', interface: 1 },
        { address: '192.168.4.5/24' },
        { address: '192.168.5.5/24', interface: 7 },
      ],
    };
    deepStrictEqual(buildNetworkStatus({ network: 'ns/multi', isDefault: true, ifName: 'net1', result }), [
      {
        name: 'ns/multi',
        interface: 'net1',
        mac: '02:00:00:00:00:02',
        ips: ['192.168.2.5', '192.168.4.5'],
        default: true,
        dns: {},
      },
      {
        name: 'ns/multi',
        interface: 'side0',
        mac: '02:00:00:00:00:01',
        ips: ['192.168.1.5'],
        default: false,
        dns: {},
      },
    ]);
  });

  it('leads with the first sandbox interface when ifName is not among them', () => {
    const result: StatusResultInput = {
      interfaces: [
        { name: 'a', sandbox: NETNS },
        { name: 'b', sandbox: NETNS },
      ],
      ips: [{ address: '10.0.0.1/8' }],
    };
    const got = buildNetworkStatus({ network: 'n', isDefault: false, ifName: 'net3', result });
    deepStrictEqual(
      got.map((s) => [s.interface, s.ips, s.default]),
      [
        ['a', ['10.0.0.1'], false],
        ['b', undefined, false],
      ],
    );
  });

  it('builds a minimal map for a plugin that returned no result (§5.1.1 SHOULD)', () => {
    deepStrictEqual(
      buildNetworkStatus({ network: 'ns/x', isDefault: false, ifName: 'net1', result: undefined }),
      [{ name: 'ns/x', interface: 'net1', default: false, dns: {} }],
    );
  });

  it('uses unindexed IPs of a result without interfaces (converted from 0.2.0), IPv4 and IPv6', () => {
    const result: StatusResultInput = {
      ips: [
        { address: '10.1.0.5/16', gateway: '10.1.0.1' },
        { address: '2001:db8::5/64', interface: -1 },
      ],
      routes: [{ dst: '::/0', gw: '2001:db8::1' }, { dst: '0.0.0.0/0' }],
    };
    deepStrictEqual(buildNetworkStatus({ network: 'ns/v6', isDefault: false, ifName: 'net1', result }), [
      {
        name: 'ns/v6',
        interface: 'net1',
        ips: ['10.1.0.5', '2001:db8::5'],
        default: false,
        dns: {},
        gateway: ['2001:db8::1'],
      },
    ]);
  });

  it('takes the interface named ifName when no interface has sandbox set; drops host-side IPs', () => {
    const noSandbox: StatusResultInput = {
      interfaces: [{ name: 'net1', mac: '02:00:00:00:00:09' }],
      ips: [{ address: '10.0.0.9/24', interface: 0 }],
    };
    deepStrictEqual(
      buildNetworkStatus({ network: 'n', isDefault: false, ifName: 'net1', result: noSandbox }),
      [
        {
          name: 'n',
          interface: 'net1',
          mac: '02:00:00:00:00:09',
          ips: ['10.0.0.9'],
          default: false,
          dns: {},
        },
      ],
    );
    const hostOnly: StatusResultInput = {
      interfaces: [{ name: 'vethabc' }],
      ips: [{ address: '10.0.0.9/24', interface: 0 }],
    };
    deepStrictEqual(
      buildNetworkStatus({ network: 'n', isDefault: false, ifName: 'net1', result: hostOnly }),
      [{ name: 'n', interface: 'net1', default: false, dns: {} }],
    );
  });

  it('adds default-route when requested, and device-info', () => {
    const base = { network: 'ns/a', isDefault: false, ifName: 'eth0', result: bridgeResult };
    deepStrictEqual(buildNetworkStatus({ ...base, gateways: [] })[0]?.['default-route'], ['10.244.0.1']);
    deepStrictEqual(buildNetworkStatus({ ...base, gateways: ['10.244.0.254'] })[0]?.['default-route'], [
      '10.244.0.254',
    ]);
    deepStrictEqual(Object.hasOwn(buildNetworkStatus(base)[0] ?? {}, 'default-route'), false);
    const deviceInfo = { type: 'pci', version: '1.1.0', pci: { 'pci-address': '0000:03:00.1' } };
    deepStrictEqual(buildNetworkStatus({ ...base, deviceInfo })[0]?.['device-info'], deviceInfo);
  });

  it('never throws on odd results and marks at most one entry default', () => {
    const anyResult = fc.record(
      {
        interfaces: fc.oneof(
          fc.array(
            fc.record(
              {
                name: fc.oneof(fc.constantFrom('eth0', 'net1', ''), fc.jsonValue()),
                mac: fc.jsonValue(),
                mtu: fc.jsonValue(),
                sandbox: fc.oneof(fc.constantFrom(NETNS, ''), fc.jsonValue()),
              },
              { requiredKeys: [] },
            ),
          ),
          fc.jsonValue(),
        ),
        ips: fc.oneof(
          fc.array(
            fc.record(
              { address: fc.oneof(fc.ipV4(), fc.jsonValue()), interface: fc.jsonValue() },
              { requiredKeys: [] },
            ),
          ),
          fc.jsonValue(),
        ),
        routes: fc.oneof(
          fc.array(fc.record({ dst: fc.constantFrom('0.0.0.0/0', '::/0'), gw: fc.jsonValue() })),
          fc.jsonValue(),
        ),
        dns: fc.jsonValue(),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(anyResult, fc.boolean(), (result, isDefault) => {
        const got = buildNetworkStatus({
          network: 'n',
          isDefault,
          ifName: 'eth0',
          result: result as StatusResultInput,
        });
        ok(got.length >= 1);
        deepStrictEqual(got.filter((s) => s.default).length, isDefault ? 1 : 0);
        deepStrictEqual(got[0]?.default, isDefault);
        for (const s of got) ok(typeof s.interface === 'string' && s.interface !== '');
        deepStrictEqual(parseNetworkStatus(formatNetworkStatus(got)), JSON.parse(JSON.stringify(got)));
      }),
      { numRuns: 1000 },
    );
  });
});

describe('formatNetworkStatus / parseNetworkStatus', () => {
  it('formats like the Go client: 4-space entries joined inside [...], key order of types.go', () => {
    const status: NetworkStatus = {
      dns: {},
      default: false,
      ips: ['10.1.1.5'],
      interface: 'net1',
      name: 'ns/a',
    };
    deepStrictEqual(
      formatNetworkStatus([status, { name: 'cbr0', default: true, dns: {} }]),
      '[{\n    "name": "ns/a",\n    "interface": "net1",\n    "ips": [\n        "10.1.1.5"\n    ],\n    "default": false,\n    "dns": {}\n},{\n    "name": "cbr0",\n    "default": true,\n    "dns": {}\n}]',
    );
    deepStrictEqual(formatNetworkStatus([]), '[]');
  });

  it('reads what Multus writes (default omitted when false, mtu, gateway)', () => {
    const multus =
      '[{\n    "name": "cbr0",\n    "interface": "eth0",\n    "ips": [\n        "10.244.0.5"\n    ],\n    "mac": "0a:58:0a:f4:00:05",\n    "mtu": 1450,\n    "default": true,\n    "dns": {},\n    "gateway": [\n        "10.244.0.1"\n    ]\n},{\n    "name": "default/macvlan-conf",\n    "interface": "net1",\n    "ips": [\n        "192.168.1.200"\n    ],\n    "mac": "86:1d:96:ff:55:0d",\n    "dns": {}\n}]';
    deepStrictEqual(parseNetworkStatus(multus), [
      {
        name: 'cbr0',
        interface: 'eth0',
        ips: ['10.244.0.5'],
        mac: '0a:58:0a:f4:00:05',
        mtu: 1450,
        default: true,
        dns: {},
        gateway: ['10.244.0.1'],
      },
      {
        name: 'default/macvlan-conf',
        interface: 'net1',
        ips: ['192.168.1.200'],
        mac: '86:1d:96:ff:55:0d',
        default: false,
        dns: {},
      },
    ]);
  });

  it('reads 2018 entries without dns and drops unknown keys', () => {
    deepStrictEqual(
      parseNetworkStatus('[{"name":"flannel.1","ips":["10.1.2.3"],"default":true,"org.x/y":1}]'),
      [{ name: 'flannel.1', ips: ['10.1.2.3'], default: true, dns: {} }],
    );
  });

  it('refuses malformed status text with SpecError', () => {
    for (const [text, key] of [
      ['{}', undefined],
      ['nope', undefined],
      ['[1]', undefined],
      ['[{}]', 'name'],
      ['[{"name":"a","default":"yes"}]', 'default'],
      ['[{"name":"a","ips":"10.0.0.1"}]', 'ips'],
      ['[{"name":"a","mtu":"1500"}]', 'mtu'],
      ['[{"name":"a","dns":{"nameservers":"x"}}]', 'dns.nameservers'],
      ['[{"name":"a","dns":[]}]', 'dns'],
    ] as const) {
      throws(
        () => parseNetworkStatus(text),
        (err: unknown) =>
          err instanceof SpecError && err.code === 'INVALID_NETWORK_STATUS' && err.key === key,
        text,
      );
    }
  });

  it('format then parse gives the list back', () => {
    const strings = fc.array(fc.string(), { maxLength: 3 });
    const status: fc.Arbitrary<NetworkStatus> = fc
      .record(
        {
          name: fc.string(),
          interface: fc.string(),
          ips: fc.array(fc.oneof(fc.ipV4(), fc.ipV6()), { maxLength: 3 }),
          mac: fc.string(),
          mtu: fc.integer({ min: 68, max: 65535 }),
          default: fc.boolean(),
          dns: fc.record(
            { nameservers: strings, domain: fc.string(), search: strings, options: strings },
            { requiredKeys: [], noNullPrototype: true },
          ),
          gateway: strings,
          'default-route': strings,
          'device-info': fc.json().map((t) => JSON.parse(t) as unknown),
        },
        { requiredKeys: ['name', 'default', 'dns'], noNullPrototype: true },
      )
      .map((s) => (s['device-info'] === null ? (({ 'device-info': _, ...rest }) => rest)(s) : s));
    fc.assert(
      fc.property(fc.array(status, { maxLength: 4 }), (list) => {
        deepStrictEqual(parseNetworkStatus(formatNetworkStatus(list)), list);
      }),
    );
  });

  it('any string either parses or throws SpecError', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json()), (text) => {
        try {
          parseNetworkStatus(text);
        } catch (err) {
          if (!(err instanceof SpecError)) throw err;
        }
      }),
    );
  });
});

describe('network-status values in canonical form', () => {
  it('writes IPv6 addresses and gateways canonically (RFC 5952) and omits empty dns fields', () => {
    const [entry] = buildNetworkStatus({
      network: 'ns/v6',
      isDefault: false,
      ifName: 'net1',
      gateways: ['2001:DB8:0:0:0:0:0:1'],
      result: {
        interfaces: [{ name: 'net1', sandbox: NETNS }],
        ips: [{ address: '2001:DB8:0:0:0:0:0:25/64', interface: 0 }, { address: '::FFFF:C000:0201/128' }],
        routes: [{ dst: '::/0', gw: '2001:DB8::0:1' }],
        dns: { nameservers: [], domain: '', search: ['a.example'], options: [] },
      },
    });
    deepStrictEqual(entry?.ips, ['2001:db8::25', '::ffff:192.0.2.1']);
    deepStrictEqual(entry?.gateway, ['2001:db8::1']);
    deepStrictEqual(entry?.['default-route'], ['2001:db8::1']);
    deepStrictEqual(entry?.dns, { search: ['a.example'] });
  });
});
