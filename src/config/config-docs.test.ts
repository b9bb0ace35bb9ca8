import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { CONFIG_DOC, renderConfigDoc, renderTable } from '../../scripts/gen-config-docs.ts';
import { DAEMON_OPTIONS } from './daemon-config.ts';
import { MULTINET_OPTIONS } from './multinet-config.ts';
import { str } from './option-schema.ts';

describe('docs/configuration.md tables come from the schemas', () => {
  it('the tracked doc is what the schemas generate (else: npm run docs:config)', () => {
    // Compares only: the test never writes the tracked doc.
    const doc = readFileSync(CONFIG_DOC, 'utf8');
    assert.equal(renderConfigDoc(doc), doc, 'docs/configuration.md is stale: run npm run docs:config');
  });

  it('every option has a row, with its default and meaning', () => {
    const doc = readFileSync(CONFIG_DOC, 'utf8');
    for (const key of [...Object.keys(MULTINET_OPTIONS), ...Object.keys(DAEMON_OPTIONS)])
      assert.ok(doc.includes(`\`${key}\``), key);
    assert.match(doc, /\| `maxNetworkConfigBytes` \| integer 1024-1572864 \| `65536` \| largest NAD/);
    assert.match(doc, /\| `binDirs` \(or `binDir`\) \| path list/);
  });

  it('a changed schema makes the doc stale', () => {
    const doc = readFileSync(CONFIG_DOC, 'utf8');
    const changed = { ...MULTINET_OPTIONS, confDir: str('/somewhere/else', 'moved') };
    const table = renderTable(changed);
    assert.match(table, /\| `confDir` \| string \| `\/somewhere\/else` \| moved \|/);
    assert.ok(!doc.includes(table), 'the doc does not have the changed table');
  });
});
