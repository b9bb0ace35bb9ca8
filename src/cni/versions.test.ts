import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { CniError } from './cni-error.ts';
import {
  compareVersions,
  normalizeVersion,
  parseVersion,
  selectVersion,
  selectVersionFrom,
  SUPPORTED_VERSIONS,
  versionAtLeast,
} from './versions.ts';

test('parseVersion: "" is 0.1.0, missing parts are 0, more than three parts fail', () => {
  assert.deepEqual(parseVersion(''), [0, 1, 0]);
  assert.deepEqual(parseVersion('1'), [1, 0, 0]);
  assert.deepEqual(parseVersion('0.3'), [0, 3, 0]);
  assert.deepEqual(parseVersion('1.1.0'), [1, 1, 0]);
  for (const bad of ['1.0.0.0', 'a.b.c', '1..0', '-1.0.0', '+1.0.0', ' 1.0.0', '1.0.0-rc1', '01.0.0']) {
    assert.throws(
      () => parseVersion(bad),
      (e: unknown) => e instanceof CniError && e.code === 7,
      bad,
    );
  }
});

test('compareVersions orders the supported list and treats "" as 0.1.0', () => {
  const sorted = [...SUPPORTED_VERSIONS].sort(() => Math.random() - 0.5).sort(compareVersions);
  assert.deepEqual(sorted, [...SUPPORTED_VERSIONS]);
  assert.equal(compareVersions('', '0.1.0'), 0);
  assert.ok(versionAtLeast('1.0.0', '0.4.0'));
  assert.ok(!versionAtLeast('0.3.1', '0.4.0'));
  assert.equal(normalizeVersion('1'), '1.0.0');
});

test('selectVersion picks the highest supported of cniVersion and cniVersions', () => {
  assert.equal(selectVersion('0.3.1', []), '0.3.1');
  assert.equal(selectVersion('', []), '0.1.0');
  assert.equal(selectVersion('0.4.0', ['1.0.0', '0.3.1']), '1.0.0');
  assert.equal(selectVersion('1.0.0', ['1.1.0', '2.0.0']), '1.1.0', 'versions above ours are skipped');
  assert.equal(selectVersion('1.0', []), '1.0.0', 'short spellings normalise');
  assert.throws(
    () => selectVersion('2.0.0', []),
    (e: unknown) => e instanceof CniError && e.code === 1,
  );
  assert.throws(
    () => selectVersion('0.3.2', []),
    (e: unknown) => e instanceof CniError && e.code === 1,
  );
  assert.throws(
    () => selectVersion('x', []),
    (e: unknown) => e instanceof CniError && e.code === 7,
  );
  assert.equal(selectVersionFrom(['1.1.0', '1.0.0'], ['0.4.0', '1.0.0']), '1.0.0');
});

test('property: parseVersion either parses to three non-negative integers or throws CniError 7', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.stringMatching(/^[0-9.]{0,12}$/)), (s) => {
      try {
        const v = parseVersion(s);
        assert.equal(v.length, 3);
        assert.ok(v.every((n) => Number.isInteger(n) && n >= 0));
        assert.equal(compareVersions(normalizeVersion(s), s), 0, 'normalising keeps the order');
      } catch (e) {
        assert.ok(e instanceof CniError && e.code === 7);
      }
    }),
  );
});

test('property: compareVersions is antisymmetric', () => {
  const v = fc.tuple(fc.nat(20), fc.nat(20), fc.nat(20)).map((t) => t.join('.'));
  fc.assert(
    fc.property(v, v, (a, b) => {
      assert.equal(Math.sign(compareVersions(a, b)) + Math.sign(compareVersions(b, a)), 0);
    }),
  );
});
