import { deepStrictEqual } from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { injectNetworkName } from './inject-network-name.ts';

describe('injectNetworkName (spec §3.4.2)', () => {
  it('inserts name first and leaves every other byte alone', () => {
    const text = '{\n  "cniVersion": "0.3.0",\n  "type": "awesome-plugin", "n": 1.50\n}';
    deepStrictEqual(
      injectNetworkName(text, 'a-bridge-network'),
      '{"name":"a-bridge-network",\n  "cniVersion": "0.3.0",\n  "type": "awesome-plugin", "n": 1.50\n}',
    );
    deepStrictEqual(injectNetworkName(' {} ', 'x'), ' {"name":"x"} ');
  });
  it('fills an empty top-level name but not nested ones', () => {
    deepStrictEqual(
      injectNetworkName('{"ipam":{"name":""},"name" : "" ,"type":"x"}', 'net'),
      '{"ipam":{"name":""},"name" : "net" ,"type":"x"}',
    );
    deepStrictEqual(
      injectNetworkName('{"n\\u0061me":"","type":"x"}', 'net'),
      '{"n\\u0061me":"net","type":"x"}',
    );
  });
  it('gives the parsed object plus name, for any JSON object in any layout', () => {
    const object = fc
      .dictionary(
        fc.string(),
        fc.json().map((t) => JSON.parse(t) as unknown),
        { noNullPrototype: true },
      )
      .map((o) => JSON.parse(JSON.stringify(o)) as Record<string, unknown>)
      .filter((o) => !Object.hasOwn(o, 'name'));
    fc.assert(
      fc.property(
        object,
        fc.constantFrom(undefined, 1, 2, '\t'),
        fc.oneof(fc.constant(true), fc.constant(false)),
        (o, indent, emptyName) => {
          const input = emptyName ? { ...o, name: '' } : o;
          const text = JSON.stringify(input, null, indent);
          const out = injectNetworkName(text, 'net-1');
          deepStrictEqual(JSON.parse(out), { ...input, name: 'net-1' });
        },
      ),
    );
  });
});
