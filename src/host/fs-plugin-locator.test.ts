import assert from 'node:assert/strict';
import { chmod, chown, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
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

test('a plugin must resolve inside the search dirs to a root-owned file nobody else may write', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'mn-locator-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const [bin, other] = [join(root, 'bin'), join(root, 'other')];
  await mkdir(bin);
  await mkdir(other);
  await writeFile(join(other, 'real'), '', { mode: 0o755 });
  await symlink('/bin/sh', join(bin, 'sh-link'));
  await symlink(join(other, 'real'), join(bin, 'to-other'));
  await writeFile(join(bin, 'loose'), '', { mode: 0o755 });
  await chmod(join(bin, 'loose'), 0o775);
  await writeFile(join(bin, 'foreign'), '', { mode: 0o755 });
  await chown(join(bin, 'foreign'), 65534, 65534);
  await writeFile(join(bin, 'multinet'), '', { mode: 0o755 });
  const locator = new FsPluginLocator({ refusedTypes: ['multinet'], trustedUid: 0 });
  await assert.rejects(locator.find('sh-link', [bin]), /resolves to \/(usr\/)?bin\/(da|ba)?sh, outside/);
  await assert.rejects(locator.find('to-other', [bin]), /outside the plugin directories/);
  // A link to another search directory is fine (the file is as trusted as that directory).
  assert.equal(await locator.find('to-other', [bin, other]), join(bin, 'to-other'));
  await assert.rejects(locator.find('loose', [bin]), /writable by group or others \(mode 775\)/);
  await assert.rejects(locator.find('foreign', [bin]), /owned by uid 65534, not root/);
  await assert.rejects(locator.find('multinet', [bin]), /multinet itself/);
  // Relative directories are ignored: they would resolve against the working directory.
  await assert.rejects(locator.find('real', ['other', bin]), /failed to find plugin "real"/);
});
