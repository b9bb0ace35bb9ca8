import { deepStrictEqual, throws } from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatNetworksAnnotation } from './format-networks-annotation.ts';
import { SpecError } from './spec-error.ts';

describe('formatNetworksAnnotation', () => {
  it('writes the text form with namespaces', () => {
    deepStrictEqual(
      formatNetworksAnnotation(
        [
          { name: 'a', namespace: 'ns' },
          { name: 'b', namespace: 'other', interface: 'net5' },
        ],
        'text',
      ),
      'ns/a,other/b@net5',
    );
    deepStrictEqual(formatNetworksAnnotation([], 'text'), '');
  });
  it('writes the JSON form with wire keys', () => {
    deepStrictEqual(
      formatNetworksAnnotation(
        [{ name: 'a', namespace: 'ns', defaultRoute: ['10.0.0.1'], cniArgs: { x: 1 } }],
        'json',
      ),
      '[{"name":"a","namespace":"ns","default-route":["10.0.0.1"],"cni-args":{"x":1}}]',
    );
  });
  it('refuses to lose keys in the text form', () => {
    throws(
      () => formatNetworksAnnotation([{ name: 'a', namespace: 'ns', ips: ['10.0.0.1'] }], 'text'),
      (err: unknown) => err instanceof SpecError && err.key === 'ips' && err.element === 0,
    );
    throws(
      () => formatNetworksAnnotation([{ name: 'a', namespace: 'ns', interface: 'x@y' }], 'text'),
      SpecError,
    );
    throws(
      () => formatNetworksAnnotation([{ name: 'a', namespace: 'ns', interface: '{x' }], 'text'),
      SpecError,
    );
  });
});
