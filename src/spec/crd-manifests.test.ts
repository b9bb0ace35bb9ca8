// Checks deploy/crds against the identities src/spec reads (spec §3.1, docs/annotations.md, "the 2018 Network"). The files
// are applied to a real API server by the e2e tests; here we catch drift early and offline.
import { readFileSync } from 'node:fs';
import { deepStrictEqual, ok } from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import {
  LEGACY_NETWORK_GROUP,
  LEGACY_NETWORK_KIND,
  LEGACY_NETWORK_PLURAL,
  NAD_GROUP,
  NAD_KIND,
  NAD_PLURAL,
} from './well-known.ts';

interface Crd {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: {
    group: string;
    scope: string;
    names: { plural: string; singular: string; kind: string; listKind: string; shortNames?: string[] };
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      schema: { openAPIV3Schema: SchemaNode };
    }[];
  };
}
interface SchemaNode {
  type?: string;
  properties?: Record<string, SchemaNode>;
}

const load = (file: string): Crd =>
  parse(readFileSync(new URL(`../../deploy/crds/${file}`, import.meta.url), 'utf8')) as Crd;

/** A structural schema gives every node a type (apiextensions.k8s.io/v1 requirement). */
function assertStructural(node: SchemaNode, path: string): void {
  ok(typeof node.type === 'string', `${path} has no type`);
  for (const [key, child] of Object.entries(node.properties ?? {})) assertStructural(child, `${path}.${key}`);
}

function checkIdentity(crd: Crd, group: string, plural: string, kind: string): SchemaNode {
  deepStrictEqual([crd.apiVersion, crd.kind], ['apiextensions.k8s.io/v1', 'CustomResourceDefinition']);
  deepStrictEqual(crd.metadata.name, `${plural}.${group}`);
  deepStrictEqual([crd.spec.group, crd.spec.scope], [group, 'Namespaced']);
  deepStrictEqual(
    [crd.spec.names.plural, crd.spec.names.kind, crd.spec.names.listKind],
    [plural, kind, `${kind}List`],
  );
  deepStrictEqual(crd.spec.versions.length, 1);
  const [version] = crd.spec.versions;
  ok(version);
  deepStrictEqual([version.name, version.served, version.storage], ['v1', true, true]);
  const schema = version.schema.openAPIV3Schema;
  assertStructural(schema, 'openAPIV3Schema');
  const spec = schema.properties?.spec;
  deepStrictEqual(spec?.properties?.config?.type, 'string');
  return spec;
}

describe('deploy/crds', () => {
  it('network-attachment-definitions.yaml matches spec §3.1', () => {
    const crd = load('network-attachment-definitions.yaml');
    const spec = checkIdentity(crd, NAD_GROUP, NAD_PLURAL, NAD_KIND);
    deepStrictEqual(crd.spec.names.singular, 'network-attachment-definition');
    deepStrictEqual(crd.spec.names.shortNames, ['net-attach-def', 'nad']);
    deepStrictEqual(Object.keys(spec.properties ?? {}), ['config']);
  });
  it('networks.yaml matches the 2018 Network', () => {
    const crd = load('networks.yaml');
    const spec = checkIdentity(crd, LEGACY_NETWORK_GROUP, LEGACY_NETWORK_PLURAL, LEGACY_NETWORK_KIND);
    deepStrictEqual(crd.spec.names.singular, 'network');
    deepStrictEqual(spec.properties?.plugin?.type, 'string');
  });
});
