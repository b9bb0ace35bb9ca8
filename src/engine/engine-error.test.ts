import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../../test/support/control-plane.ts';
import { EngineErrorCode } from './engine-error.ts';

test('docs/troubleshooting.md has a row for every stable error code', () => {
  const doc = readFileSync(join(REPO_ROOT, 'docs/troubleshooting.md'), 'utf8');
  const rows = new Set([...doc.matchAll(/^\| `([A-Z_]+)`/gm)].map((m) => m[1]));
  const slashRows = [...doc.matchAll(/^\| `([A-Z_]+)` \/ `([A-Z_]+)`/gm)].flatMap((m) => [m[1], m[2]]);
  for (const c of slashRows) rows.add(c);
  const missing = Object.values(EngineErrorCode).filter((c) => !rows.has(c));
  assert.deepEqual(missing, [], 'codes a user can meet that the table does not explain');
});
