import { deepStrictEqual, ok, throws } from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseNetworkDefinition } from './network-definition.ts';
import { SpecError } from './spec-error.ts';

const nad = (
  spec: unknown,
  metadata: Record<string, unknown> = { name: 'macvlan-conf', namespace: 'ns' },
) => ({
  apiVersion: 'k8s.cni.cncf.io/v1',
  kind: 'NetworkAttachmentDefinition',
  metadata,
  spec,
});
const network = (spec: unknown) => ({
  apiVersion: 'kubernetes.cni.cncf.io/v1',
  kind: 'Network',
  metadata: { name: 'macvlan-conf' },
  spec,
});
const fails = (object: unknown, key: string | undefined, reason: RegExp) =>
  throws(
    () => parseNetworkDefinition(object),
    (err: unknown) =>
      err instanceof SpecError &&
      err.code === 'INVALID_NETWORK_DEFINITION' &&
      err.key === key &&
      reason.test(err.reason),
  );

describe('parseNetworkDefinition', () => {
  it('reads a NetworkAttachmentDefinition', () => {
    deepStrictEqual(
      parseNetworkDefinition(
        nad(
          { config: '{"type":"macvlan"}' },
          {
            name: 'macvlan-conf',
            namespace: 'ns',
            uid: 'u-1',
            resourceVersion: '42',
            annotations: { 'k8s.v1.cni.cncf.io/resourceName': 'intel.com/sriov_vf', other: 'x' },
          },
        ),
      ),
      {
        kind: 'NetworkAttachmentDefinition',
        namespace: 'ns',
        name: 'macvlan-conf',
        uid: 'u-1',
        resourceVersion: '42',
        resourceName: 'intel.com/sriov_vf',
        config: '{"type":"macvlan"}',
      },
    );
  });
  it('treats a missing spec, missing config and empty config as "look on disk" (spec §3.2.4)', () => {
    for (const spec of [undefined, null, {}, { config: '' }, { config: null }, { unknown: 1 }]) {
      deepStrictEqual(parseNetworkDefinition(nad(spec)).config, undefined);
    }
  });
  it('defaults the namespace of a manifest', () => {
    deepStrictEqual(parseNetworkDefinition(nad({}, { name: 'a' })).namespace, 'default');
    deepStrictEqual(parseNetworkDefinition(nad({}, { name: 'a', namespace: '' }), 'mine').namespace, 'mine');
  });
  it('reads a 2018 Network with spec.config', () => {
    const def = parseNetworkDefinition(network({ config: '{"type":"macvlan"}' }));
    deepStrictEqual(def, {
      kind: 'Network',
      namespace: 'default',
      name: 'macvlan-conf',
      config: '{"type":"macvlan"}',
    });
  });
  it('synthesises a config from a 2018 Network spec.plugin', () => {
    deepStrictEqual(
      parseNetworkDefinition(network({ plugin: 'macvlan' })).config,
      '{"cniVersion":"0.3.1","name":"macvlan-conf","type":"macvlan"}',
    );
  });
  it('refuses malformed definitions', () => {
    fails(network({ plugin: 'macvlan', config: '{}' }), 'spec', /not both/);
    fails(network({ plugin: '../sh' }), 'spec.plugin', /plain file name/);
    fails(network({ plugin: 5 }), 'spec.plugin', /string/);
    fails(nad({ config: { type: 'macvlan' } }), 'spec.config', /must be a string/);
    fails(nad([]), 'spec', /object/);
    fails(nad({}, { name: 'Bad_Name' }), 'metadata.name', /DNS-1123/);
    fails(nad({}, { name: 'a.b' }), 'metadata.name', /DNS-1123/);
    fails(nad({}, { namespace: 'ns' }), 'metadata.name', /missing/);
    fails(nad({}, { name: 'a', uid: 5 }), 'metadata.uid', /string/);
    fails(
      nad({}, { name: 'a', annotations: { 'k8s.v1.cni.cncf.io/resourceName': 1 } }),
      'metadata.annotations.k8s.v1.cni.cncf.io/resourceName',
      /string/,
    );
    fails(
      { ...nad({}), apiVersion: 'k8s.cni.cncf.io/v1beta1' },
      'apiVersion',
      /served as k8s.cni.cncf.io\/v1/,
    );
    fails(
      { ...network({}), apiVersion: 'k8s.cni.cncf.io/v1' },
      'apiVersion',
      /served as kubernetes.cni.cncf.io\/v1/,
    );
    fails({ ...nad({}), kind: 'Pod' }, 'kind', /expected/);
    fails('x', undefined, /object/);
    fails({ ...nad({}), metadata: undefined }, 'metadata', /missing/);
  });
  it('any object either parses or throws SpecError', () => {
    const metadata = fc.record(
      {
        name: fc.oneof(fc.constant('a'), fc.jsonValue()),
        namespace: fc.oneof(fc.constant('b'), fc.jsonValue()),
        annotations: fc.oneof(
          fc.dictionary(fc.constantFrom('k8s.v1.cni.cncf.io/resourceName', 'x'), fc.jsonValue()),
          fc.jsonValue(),
        ),
        uid: fc.jsonValue(),
      },
      { requiredKeys: [] },
    );
    const object = fc.record(
      {
        apiVersion: fc.constantFrom('k8s.cni.cncf.io/v1', 'kubernetes.cni.cncf.io/v1', 'v1'),
        kind: fc.constantFrom('NetworkAttachmentDefinition', 'Network', 'Pod'),
        metadata: fc.oneof(metadata, fc.jsonValue()),
        spec: fc.oneof(
          fc.record(
            { config: fc.jsonValue(), plugin: fc.oneof(fc.string(), fc.jsonValue()) },
            { requiredKeys: [] },
          ),
          fc.jsonValue(),
        ),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(object, fc.anything()), (value) => {
        try {
          const def = parseNetworkDefinition(value);
          ok(def.name.length > 0 && def.namespace.length > 0);
        } catch (err) {
          if (!(err instanceof SpecError)) throw err;
        }
      }),
      { numRuns: 2000 },
    );
  });
});
