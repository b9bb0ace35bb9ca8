import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  MANIFEST_MAX_FLOW_DEPTH,
  parseManifestDocuments,
  readManifestDocuments,
} from './manifest-documents.ts';

test('deeply nested flow collections are refused before parsing, without memory', () => {
  const rss0 = process.memoryUsage().rss;
  const docs = readManifestDocuments(`x: ${'['.repeat(200_000)}${']'.repeat(200_000)}\n`);
  assert.equal(docs.length, 1);
  assert.match(docs[0]!.error ?? '', /nest 200000 levels deep, the limit is 100/);
  // A safety bound with a wide margin (a parse of this input would take gigabytes), not a perf goal.
  assert.ok(process.memoryUsage().rss - rss0 < 64 * 1048576);
  assert.throws(
    () => parseManifestDocuments(`{"a":${'{"a":'.repeat(150)}1${'}'.repeat(151)}`, 'f.json'),
    /f\.json: document 1: .*limit/,
  );
});

test('brackets in quoted, plain and block scalars do not count as nesting', () => {
  const text = [
    'apiVersion: k8s.cni.cncf.io/v1',
    'kind: NetworkAttachmentDefinition',
    'metadata: {name: n, annotations: {a: "[[[[", b: \'{{{{\'}}',
    `description: it's [[[[ not a flow`,
    'spec:',
    '  config: |',
    `    ${'['.repeat(MANIFEST_MAX_FLOW_DEPTH + 5)}`,
  ].join('\n');
  const [obj] = parseManifestDocuments(text, 'n.yaml');
  assert.equal((obj!['metadata'] as { name: string }).name, 'n');
});
