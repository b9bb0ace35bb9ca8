import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { CniError } from './cni-error.ts';
import { parseNetworkConfig } from './network-config.ts';

const isCode = (code: number, text?: RegExp) => (e: unknown) =>
  e instanceof CniError && e.code === code && (text === undefined || text.test(e.message));

const conflist = {
  cniVersion: '1.0.0',
  name: 'mynet',
  plugins: [
    { type: 'bridge', bridge: 'cni0', ipam: { type: 'host-local', subnet: '10.22.0.0/16' }, unknownKey: [1] },
    { type: 'portmap', capabilities: { portMappings: true, bandwidth: false } },
  ],
};

test('a conflist keeps its raw JSON and bytes', () => {
  const text = JSON.stringify(conflist);
  const list = parseNetworkConfig(Buffer.from(text));
  assert.equal(list.name, 'mynet');
  assert.equal(list.cniVersion, '1.0.0');
  assert.deepEqual(list.cniVersions, []);
  assert.equal(list.isList, true);
  assert.equal(list.bytes, text);
  assert.deepEqual(list.raw, conflist);
  assert.deepEqual(
    list.plugins.map((p) => p.type),
    ['bridge', 'portmap'],
  );
  assert.deepEqual(list.plugins[0]?.raw, conflist.plugins[0]);
  assert.deepEqual(list.plugins[1]?.capabilities, { portMappings: true, bandwidth: false });
});

test('a single conf is up-converted like libcni ConfListFromConf', () => {
  const conf = { cniVersion: '0.3.1', name: 'single', type: 'macvlan', master: 'ens1', disableCheck: true };
  const list = parseNetworkConfig(JSON.stringify(conf));
  assert.equal(list.isList, false);
  assert.equal(list.name, 'single');
  assert.equal(list.cniVersion, '0.3.1');
  assert.equal(list.disableCheck, false, 'only name/cniVersion/plugins survive the up-conversion');
  assert.deepEqual(list.plugins[0]?.raw, conf);
  assert.deepEqual(JSON.parse(list.bytes), { cniVersion: '0.3.1', name: 'single', plugins: [conf] });
  assert.deepEqual(list.raw, JSON.parse(list.bytes));
});

test('flags accept booleans and "true"/"false" strings in any case; cniVersions are kept', () => {
  const list = parseNetworkConfig(
    JSON.stringify({ ...conflist, disableCheck: 'TRUE', disableGC: true, cniVersions: ['1.0.0', '1.1.0'] }),
  );
  assert.equal(list.disableCheck, true);
  assert.equal(list.disableGC, true);
  assert.deepEqual(list.cniVersions, ['1.0.0', '1.1.0']);
  assert.throws(
    () => parseNetworkConfig(JSON.stringify({ ...conflist, disableCheck: 'yes' })),
    isCode(7, /disableCheck/),
  );
});

test('invalid names are code 7 naming the value', () => {
  for (const name of ['', 'a/b', '-lead', 'ns/name', 'spa ce', '.hidden', 'x\u0000']) {
    assert.throws(() => parseNetworkConfig(JSON.stringify({ ...conflist, name })), isCode(7, /name/), name);
  }
  assert.throws(
    () => parseNetworkConfig(JSON.stringify({ ...conflist, name: undefined })),
    isCode(7, /missing network name/),
  );
  assert.throws(
    () => parseNetworkConfig(JSON.stringify({ ...conflist, name: 5 })),
    isCode(7, /"name" must be a string/),
  );
});

test('plugin type must be a plain file name: code 7 naming key and value', () => {
  const cases: [unknown, RegExp][] = [
    ['../../bin/sh', /plugins\[0\]\.type "\.\.\/\.\.\/bin\/sh".*without '\/'/],
    ['/usr/bin/bridge', /without '\/'/],
    ['.', /not "\." or "\.\."/],
    ['..', /not "\." or "\.\."/],
    ['a\u0000b', /NUL/],
    // The same rule as the NAD checks (spec/): a newline or ESC is refused here too.
    ['bridge\n', /control characters/],
    ['a\u001bb', /control characters/],
    ['x'.repeat(256), /255 bytes/],
    ['', /empty/],
    [7, /plugins\[0\]\.type must be a string, got 7/],
  ];
  for (const [type, re] of cases) {
    const text = JSON.stringify({ ...conflist, plugins: [{ type }] });
    assert.throws(() => parseNetworkConfig(text), isCode(7, re), String(type));
  }
  assert.throws(
    () => parseNetworkConfig(JSON.stringify({ name: 'n', type: 'a/b' })),
    isCode(7, /^type "a\/b"/),
  );
  assert.ok(parseNetworkConfig(JSON.stringify({ ...conflist, plugins: [{ type: 'x'.repeat(255) }] })));
});

test('structure errors: plugins shape, capabilities, versions', () => {
  const cases: [unknown, number, RegExp][] = [
    [{ ...conflist, plugins: [] }, 7, /non-empty array/],
    [{ ...conflist, plugins: {} }, 7, /non-empty array/],
    [{ ...conflist, plugins: [5] }, 7, /plugins\[0\] must be an object/],
    [{ ...conflist, plugins: [{ type: 'a', capabilities: [] }] }, 7, /capabilities must be an object/],
    [
      { ...conflist, plugins: [{ type: 'a', capabilities: { x: 1 } }] },
      7,
      /capabilities\.x must be true or false/,
    ],
    [{ ...conflist, cniVersion: 1 }, 7, /cniVersion/],
    [{ ...conflist, cniVersion: '1.0.0.0' }, 7, /cniVersion/],
    [{ ...conflist, cniVersions: '1.0.0' }, 7, /cniVersions/],
    [{ ...conflist, cniVersions: ['x'] }, 7, /cniVersions\[0\]/],
    [{ name: 'n' }, 7, /neither "plugins"/],
    [[], 6, /JSON object/],
    ['str', 6, /JSON object/],
  ];
  for (const [value, code, re] of cases) {
    assert.throws(() => parseNetworkConfig(JSON.stringify(value)), isCode(code, re), JSON.stringify(value));
  }
});

test('bad JSON is code 6; size and nesting limits give clear errors', () => {
  assert.throws(() => parseNetworkConfig('{"name":'), isCode(6, /failed to decode network configuration/));
  assert.throws(() => parseNetworkConfig(''), isCode(6));
  const big = JSON.stringify({ ...conflist, pad: 'x'.repeat(1024 * 1024) });
  assert.throws(() => parseNetworkConfig(big), isCode(6, /too large.*limit is 1048576 bytes/));
  const deep = `{"name":"n","type":"t","x":${'['.repeat(100)}${']'.repeat(100)}}`;
  assert.throws(() => parseNetworkConfig(deep), isCode(6, /nested too deeply/));
  const deepInString = JSON.stringify({ name: 'n', type: 't', s: '['.repeat(1000) });
  assert.ok(parseNetworkConfig(deepInString), 'brackets inside strings do not count');
  const escaped = JSON.stringify({ name: 'n', type: 't', s: '\\"[[[' });
  assert.ok(parseNetworkConfig(escaped));
});

test('property: any text parses or throws CniError 6/7', () => {
  const arb = fc.oneof(
    fc.string(),
    fc.json(),
    fc.jsonValue().map((v) => JSON.stringify({ name: 'n', plugins: [v] })),
    fc.jsonValue().map((v) => JSON.stringify({ name: v, type: 'bridge' })),
    fc
      .record({ name: fc.string(), type: fc.string(), cniVersion: fc.string() })
      .map((v) => JSON.stringify(v)),
    fc
      .dictionary(
        fc.constantFrom('name', 'type', 'plugins', 'cniVersion', 'cniVersions', 'disableCheck'),
        fc.jsonValue(),
      )
      .map((v) => JSON.stringify(v)),
  );
  fc.assert(
    fc.property(arb, (text) => {
      try {
        const list = parseNetworkConfig(text);
        assert.ok(list.plugins.length > 0);
        assert.match(list.name, /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/);
        for (const p of list.plugins) assert.ok(!p.type.includes('/') && p.type !== '.' && p.type !== '..');
      } catch (e) {
        assert.ok(e instanceof CniError && (e.code === 6 || e.code === 7), String(e));
      }
    }),
    { numRuns: 500 },
  );
});

test('property: a parsed list re-parses from its bytes to the same view', () => {
  const plugin = fc.record({
    type: fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/),
    capabilities: fc.dictionary(fc.string(), fc.boolean()),
    extra: fc.jsonValue(),
  });
  const arb = fc.record({
    name: fc.stringMatching(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,20}$/),
    cniVersion: fc.constantFrom('0.3.1', '0.4.0', '1.0.0', '1.1.0'),
    plugins: fc.array(plugin, { minLength: 1, maxLength: 4 }),
  });
  fc.assert(
    fc.property(arb, fc.boolean(), (value, single) => {
      const text = single
        ? JSON.stringify({ name: value.name, cniVersion: value.cniVersion, ...value.plugins[0] })
        : JSON.stringify(value);
      const a = parseNetworkConfig(text);
      const b = parseNetworkConfig(a.bytes);
      assert.deepEqual(b.plugins, a.plugins);
      assert.equal(b.name, a.name);
      assert.equal(b.cniVersion, a.cniVersion);
    }),
  );
});
