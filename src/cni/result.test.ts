import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { CniError } from './cni-error.ts';
import { parseResult, resultFromJson } from './result.ts';

const bridge100 = {
  cniVersion: '1.0.0',
  interfaces: [
    { name: 'cni0', mac: '62:9a:52:ac:71:0e' },
    { name: 'veth1', mac: 'aa:bb:cc:dd:ee:ff' },
    { name: 'eth0', mac: '0a:58:0a:16:00:05', sandbox: '/run/netns/p' },
  ],
  ips: [{ address: '10.22.0.5/16', gateway: '10.22.0.1', interface: 2 }],
  routes: [{ dst: '0.0.0.0/0', gw: '10.22.0.1' }],
  dns: {},
};

test('parses a 1.0.0 result, dropping an empty dns and unknown fields', () => {
  const r = parseResult(JSON.stringify({ ...bridge100, extra: 1 }), '0.4.0');
  const { dns: _dns, ...expected } = bridge100;
  assert.deepEqual(r, expected);
});

test('a missing or empty cniVersion takes the default; {} and null are results', () => {
  assert.equal(
    parseResult(JSON.stringify({ ...bridge100, cniVersion: undefined }), '1.0.0').cniVersion,
    '1.0.0',
  );
  assert.equal(parseResult(JSON.stringify({ ...bridge100, cniVersion: '' }), '1.1.0').cniVersion, '1.1.0');
  assert.deepEqual(parseResult('{}', '0.4.0'), { cniVersion: '0.4.0' });
  assert.deepEqual(parseResult('null', '1.0.0'), { cniVersion: '1.0.0' });
  assert.deepEqual(parseResult('{}', ''), { cniVersion: '0.1.0' });
  assert.deepEqual(resultFromJson({ cniVersion: '1.0' }, '0.4.0'), { cniVersion: '1.0.0' });
});

test('0.4.0 results keep ips[].version and derive it when a plugin omits it', () => {
  const r = parseResult(
    JSON.stringify({
      cniVersion: '0.4.0',
      ips: [
        { version: '4', address: '10.1.0.5/16' },
        { address: '2001:db8::5/64', gateway: '2001:db8::1' },
      ],
    }),
    '0.4.0',
  );
  assert.deepEqual(r, {
    cniVersion: '0.4.0',
    ips: [
      { version: '4', address: '10.1.0.5/16' },
      { version: '6', address: '2001:db8::5/64', gateway: '2001:db8::1' },
    ],
  });
});

test('1.1.0 interface and route extras are kept', () => {
  const r = {
    cniVersion: '1.1.0',
    interfaces: [
      { name: 'net1', mtu: 1400, socketPath: '/s', pciID: '0000:04:00.5', sandbox: '/run/netns/x' },
    ],
    routes: [
      { dst: '10.0.0.0/8', gw: '10.1.0.1', mtu: 1300, advmss: 1200, priority: 5, table: 100, scope: 253 },
    ],
  };
  assert.deepEqual(parseResult(JSON.stringify(r), '1.1.0'), r);
});

test('0.2.0 results: ip4/ip6 with routes and dns', () => {
  const r = {
    cniVersion: '0.2.0',
    ip4: { ip: '10.1.0.5/16', gateway: '10.1.0.1', routes: [{ dst: '0.0.0.0/0' }] },
    ip6: { ip: '2001:db8::5/64' },
    dns: { nameservers: ['10.1.0.1'], search: ['example.test'] },
  };
  assert.deepEqual(parseResult(JSON.stringify(r), '0.2.0'), r);
  assert.throws(
    () => parseResult(JSON.stringify({ cniVersion: '0.2.0', ip4: { ip: '2001:db8::1/64' } }), ''),
    (e: unknown) => e instanceof CniError && e.code === 6 && /ip4\.ip must be an IPv4 CIDR/.test(e.message),
  );
});

test('invalid results are CniError 6 naming the field; unknown versions are code 1', () => {
  const cases: [unknown, RegExp][] = [
    [
      { cniVersion: '1.0.0', ips: [{ address: '10.1.0.5' }] },
      /ips\[0\]\.address must be an address with prefix/,
    ],
    [{ cniVersion: '1.0.0', ips: [{ address: '10.1.0.5/33' }] }, /ips\[0\]\.address/],
    [
      { cniVersion: '1.0.0', ips: [{ address: '10.1.0.5/16', gateway: 'x' }] },
      /ips\[0\]\.gateway must be an IP/,
    ],
    [{ cniVersion: '1.0.0', ips: [{ address: '10.1.0.5/16', interface: 'eth0' }] }, /ips\[0\]\.interface/],
    [{ cniVersion: '1.0.0', interfaces: [{ mac: 'x' }] }, /interfaces\[0\]\.name must be a string/],
    [{ cniVersion: '1.0.0', routes: {} }, /routes must be an array/],
    [
      { cniVersion: '0.4.0', ips: [{ version: '5', address: '10.1.0.5/16' }] },
      /ips\[0\]\.version must be "4" or "6"/,
    ],
    [{ cniVersion: '1.0.0', dns: { nameservers: 'x' } }, /dns\.nameservers must be an array/],
    [{ cniVersion: 5 }, /cniVersion must be a string/],
    [[1], /result must be a JSON object/],
  ];
  for (const [value, re] of cases) {
    assert.throws(
      () => parseResult(JSON.stringify(value), '1.0.0'),
      (e: unknown) => e instanceof CniError && e.code === 6 && re.test(e.message),
      JSON.stringify(value),
    );
  }
  for (const v of ['0.5.0', '2.0.0', 'abc']) {
    assert.throws(
      () => parseResult(JSON.stringify({ cniVersion: v }), '1.0.0'),
      (e: unknown) =>
        e instanceof CniError && e.code === 1 && /unsupported CNI result version/.test(e.message),
    );
  }
  assert.throws(
    () => parseResult('not json', '1.0.0'),
    (e: unknown) => e instanceof CniError && e.code === 6,
  );
});

test('property: any JSON either parses as a result or throws CniError 1/6', () => {
  const field = fc.oneof(
    fc.jsonValue(),
    fc.array(
      fc.dictionary(
        fc.constantFrom('address', 'version', 'gateway', 'interface', 'dst', 'gw', 'name', 'ip'),
        fc.jsonValue(),
      ),
    ),
  );
  const arb = fc.oneof(
    fc.string(),
    fc.json(),
    fc
      .record(
        {
          cniVersion: fc.constantFrom('0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0', '', 'x'),
          ips: field,
          interfaces: field,
          routes: field,
          ip4: field,
          dns: field,
        },
        { requiredKeys: ['cniVersion'] },
      )
      .map((v) => JSON.stringify(v)),
  );
  fc.assert(
    fc.property(arb, (text) => {
      try {
        const r = parseResult(text, '1.0.0');
        assert.equal(typeof r.cniVersion, 'string');
        assert.deepEqual(parseResult(JSON.stringify(r), '1.0.0'), r, 'a parsed result re-parses to itself');
      } catch (e) {
        assert.ok(e instanceof CniError && (e.code === 1 || e.code === 6), String(e));
      }
    }),
    { numRuns: 500 },
  );
});

test('an IP with a negative interface index (0.3.0-era plugins wrote -1) has no interface', () => {
  const r = parseResult(
    JSON.stringify({
      cniVersion: '0.3.0',
      interfaces: [{ name: 'eth0', sandbox: '/run/netns/p' }],
      ips: [{ version: '4', address: '10.1.0.5/24', interface: -1 }],
    }),
    '0.3.0',
  ) as { ips: { interface?: number }[] };
  assert.equal(r.ips[0]!.interface, undefined);
  assert.throws(
    () =>
      parseResult(
        JSON.stringify({ cniVersion: '1.0.0', ips: [{ address: '10.1.0.5/24', interface: 1.5 }] }),
        '1.0.0',
      ),
    /interface/,
  );
});
