import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { CniError } from './cni-error.ts';
import { convertResult } from './result-convert.ts';
import type { CniResult, Result020, Result040, Result100 } from './result.ts';
import { parseResult } from './result.ts';

const r110: Result100 = {
  cniVersion: '1.1.0',
  interfaces: [
    { name: 'br0', mac: '62:9a:52:ac:71:0e', mtu: 1500 },
    {
      name: 'eth0',
      mac: '0a:58:0a:16:00:05',
      sandbox: '/run/netns/p',
      socketPath: '/s',
      pciID: '0000:04:00.5',
    },
  ],
  ips: [
    { address: '10.22.0.5/16', gateway: '10.22.0.1', interface: 1 },
    { address: '10.23.0.5/16', interface: 1 },
    { address: '2001:db8::5/64', gateway: '2001:db8::1', interface: 1 },
  ],
  routes: [
    { dst: '0.0.0.0/0', gw: '10.22.0.1', mtu: 1400, table: 100 },
    { dst: '::/0', gw: '2001:db8::1' },
  ],
  dns: { nameservers: ['10.22.0.1'] },
};

test('1.1.0 → 0.4.0 drops interface extras, computes ips[].version, keeps route extras', () => {
  const r = convertResult(r110, '0.4.0') as Result040;
  assert.equal(r.cniVersion, '0.4.0');
  assert.deepEqual(r.interfaces, [
    { name: 'br0', mac: '62:9a:52:ac:71:0e' },
    { name: 'eth0', mac: '0a:58:0a:16:00:05', sandbox: '/run/netns/p' },
  ]);
  assert.deepEqual(
    r.ips?.map((ip) => ip.version),
    ['4', '4', '6'],
  );
  assert.deepEqual(r.routes, r110.routes);
  assert.deepEqual(r.dns, r110.dns);
});

test('1.1.0 → 1.0.0 only relabels (1.1 fields may stay, as in Go)', () => {
  assert.deepEqual(convertResult(r110, '1.0.0'), { ...r110, cniVersion: '1.0.0' });
  assert.deepEqual(convertResult({ ...r110, cniVersion: '1.0.0' }, '1.1.0'), r110);
});

test('→ 0.2.0 keeps the first address per family and routes of families with an address', () => {
  const r = convertResult(r110, '0.2.0') as Result020;
  assert.deepEqual(r, {
    cniVersion: '0.2.0',
    ip4: { ip: '10.22.0.5/16', gateway: '10.22.0.1', routes: [{ dst: '0.0.0.0/0', gw: '10.22.0.1' }] },
    ip6: { ip: '2001:db8::5/64', gateway: '2001:db8::1', routes: [{ dst: '::/0', gw: '2001:db8::1' }] },
    dns: { nameservers: ['10.22.0.1'] },
  });
  const v4only: Result100 = {
    cniVersion: '1.0.0',
    ips: [{ address: '10.1.0.2/24' }],
    routes: [{ dst: '::/0' }],
  };
  assert.deepEqual(convertResult(v4only, '0.1.0'), { cniVersion: '0.1.0', ip4: { ip: '10.1.0.2/24' } });
});

test('an IP-less result cannot go below 0.3.0', () => {
  const l2only: Result040 = { cniVersion: '0.4.0', interfaces: [{ name: 'eth0', sandbox: '/x' }] };
  for (const v of ['0.2.0', '0.1.0', '']) {
    assert.throws(
      () => convertResult(l2only, v),
      (e: unknown) => e instanceof CniError && e.code === 1 && /no valid IP addresses/.test(e.message),
    );
  }
});

test('0.2.0 → newer: ip4 then ip6 become ips, routes concatenated, no interfaces', () => {
  const r020: Result020 = {
    cniVersion: '0.2.0',
    ip4: { ip: '10.1.0.5/16', gateway: '10.1.0.1', routes: [{ dst: '0.0.0.0/0', gw: '10.1.0.1' }] },
    ip6: { ip: '2001:db8::5/64', routes: [{ dst: '::/0' }] },
  };
  assert.deepEqual(convertResult(r020, '0.3.1'), {
    cniVersion: '0.3.1',
    ips: [
      { version: '4', address: '10.1.0.5/16', gateway: '10.1.0.1' },
      { version: '6', address: '2001:db8::5/64' },
    ],
    routes: [{ dst: '0.0.0.0/0', gw: '10.1.0.1' }, { dst: '::/0' }],
  });
  assert.deepEqual(convertResult(r020, '1.0.0'), {
    cniVersion: '1.0.0',
    ips: [{ address: '10.1.0.5/16', gateway: '10.1.0.1' }, { address: '2001:db8::5/64' }],
    routes: [{ dst: '0.0.0.0/0', gw: '10.1.0.1' }, { dst: '::/0' }],
  });
  assert.deepEqual(convertResult(r020, '0.1.0'), { ...r020, cniVersion: '0.1.0' });
});

test('unknown targets fail with code 1; conversion never mutates its input', () => {
  const before = structuredClone(r110);
  for (const v of ['0.5.0', '2.0.0', 'x']) {
    assert.throws(
      () => convertResult(r110, v),
      (e: unknown) => e instanceof CniError && e.code === 1,
    );
  }
  const out = convertResult(r110, '1.1.0') as Result100;
  out.routes?.push({ dst: '1.2.3.0/24' });
  assert.deepEqual(r110, before);
});

// Arbitraries: addresses carry host bits, as plugins print them.
const v4 = fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 32 })).map(([a, p]) => `${a}/${p}`);
const v6 = fc.tuple(fc.ipV6(), fc.integer({ min: 0, max: 128 })).map(([a, p]) => `${a}/${p}`);
const cidr = fc.oneof(v4, v6);
const route = fc.record({ dst: cidr, gw: fc.ipV4() }, { requiredKeys: ['dst'], noNullPrototype: true });
const dns = fc.record(
  { nameservers: fc.array(fc.ipV4(), { minLength: 1 }), domain: fc.string() },
  { requiredKeys: ['nameservers'], noNullPrototype: true },
);
const iface = fc.record(
  { name: fc.string({ minLength: 1 }), mac: fc.string(), sandbox: fc.string() },
  { requiredKeys: ['name'], noNullPrototype: true },
);
const result040 = fc.record(
  {
    cniVersion: fc.constantFrom('0.3.0', '0.3.1', '0.4.0'),
    interfaces: fc.array(iface, { minLength: 1 }),
    ips: fc.array(
      cidr.map((address) => ({ version: (address.includes(':') ? '6' : '4') as '4' | '6', address })),
      { minLength: 1 },
    ),
    routes: fc.array(route, { minLength: 1 }),
    dns,
  },
  { requiredKeys: ['cniVersion'], noNullPrototype: true },
) as fc.Arbitrary<Result040>;

test('property: 0.3/0.4 → 1.x → back is lossless; 1.0 ↔ 1.1 too', () => {
  fc.assert(
    fc.property(result040, fc.constantFrom('1.0.0', '1.1.0'), (r, up) => {
      const there = convertResult(r, up);
      assert.deepEqual(convertResult(there, r.cniVersion), r);
      const other = up === '1.0.0' ? '1.1.0' : '1.0.0';
      assert.deepEqual(convertResult(convertResult(there, other), up), there);
      assert.deepEqual(
        parseResult(JSON.stringify(there), '1.0.0'),
        there,
        'converted output is a valid result',
      );
    }),
  );
});

test('property: 0.2.0 → any newer version → 0.2.0 is lossless', () => {
  const ipcfg = (addr: fc.Arbitrary<string>, dst: fc.Arbitrary<string>) =>
    fc.record(
      { ip: addr, routes: fc.array(fc.record({ dst }, { noNullPrototype: true }), { minLength: 1 }) },
      { requiredKeys: ['ip'], noNullPrototype: true },
    );
  const r020 = fc
    .record(
      { cniVersion: fc.constantFrom('0.1.0', '0.2.0'), ip4: ipcfg(v4, v4), ip6: ipcfg(v6, v6) },
      { requiredKeys: ['cniVersion', 'ip4'], noNullPrototype: true },
    )
    .map((r) => r as Result020);
  fc.assert(
    fc.property(r020, fc.constantFrom('0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'), (r, up) => {
      assert.deepEqual(convertResult(convertResult(r, up), r.cniVersion), r);
    }),
  );
});

test('property: converting any result to any version gives that version or throws CniError 1', () => {
  const anyResult = fc.oneof(
    result040,
    result040.map((r) => convertResult(r, '1.1.0')),
  ) as fc.Arbitrary<CniResult>;
  const target = fc.constantFrom('', '0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0', '9.9.9');
  fc.assert(
    fc.property(anyResult, target, (r, v) => {
      try {
        assert.equal(convertResult(r, v).cniVersion, v === '' ? '0.1.0' : v);
      } catch (e) {
        assert.ok(e instanceof CniError && e.code === 1);
      }
    }),
  );
});
