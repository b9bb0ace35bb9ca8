import { deepStrictEqual, ok } from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { SpecError, escapeForMessage, quoteValue } from './spec-error.ts';

describe('SpecError', () => {
  it('reads element, key, value and reason', () => {
    const err = new SpecError({
      code: 'INVALID_NETWORKS_ANNOTATION',
      subject: 'networks annotation',
      element: 2,
      elementName: 'macvlan-conf',
      key: 'mac',
      value: 'zz:..',
      reason: 'not a 6-byte Ethernet MAC address',
    });
    deepStrictEqual(
      err.message,
      'networks annotation element 2 ("macvlan-conf"): key "mac" value "zz:..": not a 6-byte Ethernet MAC address',
    );
    deepStrictEqual(
      err.detail,
      'element 2 ("macvlan-conf"): key "mac" value "zz:..": not a 6-byte Ethernet MAC address',
    );
    deepStrictEqual(err.name, 'SpecError');
    deepStrictEqual(err.retryable, false);
    ok(err instanceof Error);
  });
  it('marks only a missing on-disk config as retryable', () => {
    deepStrictEqual(
      new SpecError({ code: 'NETWORK_CONFIG_NOT_FOUND', subject: 's', reason: 'r' }).retryable,
      true,
    );
    deepStrictEqual(
      new SpecError({ code: 'NETWORK_CONFIG_NOT_FOUND', subject: 's', reason: 'r' }).message,
      's: r',
    );
  });
  it('quotes any value as short printable ASCII', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 500 }), fc.anything()), (value) => {
        const text = quoteValue(value);
        ok(!/[^\x20-\x7e]/.test(text), text);
        ok(text.length <= 6 * 66 + 3, `${text.length}`);
      }),
    );
    deepStrictEqual(quoteValue(5), '5');
    deepStrictEqual(quoteValue({ a: 1 }), '{"a":1}');
    deepStrictEqual(quoteValue('x'.repeat(100)), `"${'x'.repeat(64)}"...`);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    deepStrictEqual(quoteValue(cyclic), 'object');
  });
  it('escapes foreign messages', () => {
    deepStrictEqual(escapeForMessage('a\u001bb', 10), 'a\\u001bb');
    deepStrictEqual(escapeForMessage('abcdef', 3), 'abc...');
  });
});
