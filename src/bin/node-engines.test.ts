import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../../test/support/control-plane.ts';

/** Node APIs the product uses that set its minimum version, with the 20.x release that added each. */
const NEEDS: [api: string, since: [number, number]][] = [['process.getBuiltinModule', [20, 16]]];

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) sources(path, out);
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

test('package.json engines.node is no lower than what the shipped code calls', () => {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
    engines?: { node?: string };
  };
  const m = /^>=\s*(\d+)(?:\.(\d+))?(?:\.\d+)?$/.exec(pkg.engines?.node ?? '');
  assert.ok(m, `engines.node ${JSON.stringify(pkg.engines?.node)} is not ">=MAJOR[.MINOR]"`);
  const declared = [Number(m[1]), Number(m[2] ?? 0)];
  const text = sources(join(REPO_ROOT, 'src')).map((f) => readFileSync(f, 'utf8'));
  for (const [api, [major, minor]] of NEEDS) {
    if (!text.some((t) => t.includes(`${api}(`))) continue;
    const ok = declared[0]! > major || (declared[0] === major && declared[1]! >= minor);
    assert.ok(ok, `src/ calls ${api} (Node ${major}.${minor}), but engines.node is ${pkg.engines?.node}`);
  }
});
