import assert from 'node:assert/strict';
import { test } from 'node:test';
import { relayableCode } from './cni-error.ts';

test('relayableCode: well-known codes and 100+ pass, anything the runtime would misread does not', () => {
  for (const code of [1, 2, 3, 4, 5, 6, 7, 8, 11, 50, 51, 100, 105, 999, 0xffffffff])
    assert.equal(relayableCode(code), code, `code ${code}`);
  for (const code of [0, -1, 9, 10, 12, 42, 99, 1.5, 2 ** 32, Number.NaN, Infinity, '7', null, undefined])
    assert.equal(relayableCode(code), undefined, `code ${String(code)}`);
});
