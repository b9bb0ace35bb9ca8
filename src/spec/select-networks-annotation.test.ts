import { deepStrictEqual } from 'node:assert/strict';
import { describe, it } from 'node:test';
import { selectNetworksAnnotation } from './select-networks-annotation.ts';
import { LEGACY_NETWORKS_ANNOTATION, NETWORKS_ANNOTATION } from './well-known.ts';

describe('selectNetworksAnnotation', () => {
  it('prefers the v1 key', () => {
    deepStrictEqual(
      selectNetworksAnnotation({ [NETWORKS_ANNOTATION]: 'a', [LEGACY_NETWORKS_ANNOTATION]: 'b' }),
      {
        key: NETWORKS_ANNOTATION,
        value: 'a',
      },
    );
  });
  it('falls back to the 2018 key only when the v1 key is absent', () => {
    deepStrictEqual(selectNetworksAnnotation({ [LEGACY_NETWORKS_ANNOTATION]: 'macvlan-conf' }), {
      key: LEGACY_NETWORKS_ANNOTATION,
      value: 'macvlan-conf',
    });
    deepStrictEqual(
      selectNetworksAnnotation({ [NETWORKS_ANNOTATION]: ' ', [LEGACY_NETWORKS_ANNOTATION]: 'b' }),
      undefined,
    );
  });
  it('treats missing and blank values as no request', () => {
    deepStrictEqual(selectNetworksAnnotation({}), undefined);
    deepStrictEqual(selectNetworksAnnotation({ [NETWORKS_ANNOTATION]: '' }), undefined);
    deepStrictEqual(selectNetworksAnnotation({ [LEGACY_NETWORKS_ANNOTATION]: '\n\t' }), undefined);
    deepStrictEqual(selectNetworksAnnotation({ other: 'a' }), undefined);
  });
  it('ignores inherited properties', () => {
    const annotations = Object.create({ [NETWORKS_ANNOTATION]: 'a' }) as Record<string, string>;
    deepStrictEqual(selectNetworksAnnotation(annotations), undefined);
  });
});
