import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { PluginNotFoundError } from '../cni/plugin-runner.ts';
import { FsPluginLocator } from './fs-plugin-locator.ts';

test('first directory with a regular file wins; directories are skipped; errors name type and paths', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'mn-locator-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const [a, b] = [join(root, 'a'), join(root, 'b')];
  await mkdir(join(a, 'bridge'), { recursive: true });
  await mkdir(b);
  await writeFile(join(b, 'bridge'), '');
  await writeFile(join(a, 'tuning'), '');
  await writeFile(join(b, 'tuning'), '');
  const locator = new FsPluginLocator();
  assert.equal(await locator.find('bridge', [join(root, 'none'), a, b]), join(b, 'bridge'));
  assert.equal(await locator.find('tuning', [a, b]), join(a, 'tuning'));
  await assert.rejects(locator.find('macvlan', [a, b]), (e: unknown) => {
    assert.ok(e instanceof PluginNotFoundError);
    assert.equal(e.message, `failed to find plugin "macvlan" in path ${JSON.stringify([a, b])}`);
    return true;
  });
  await assert.rejects(locator.find('../a/tuning', [b]), /invalid plugin type/);
  await assert.rejects(locator.find('tuning', []), /no paths provided/);
});
