import assert from 'node:assert/strict';
import { chmod, chown, mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkPrivateDir, ensurePrivateDir, VERIFIED_DIR_TTL_MS } from './private-dir.ts';

test('ensurePrivateDir creates 0700, tightens read bits, refuses loose or foreign components', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'mn-private-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  await ensurePrivateDir(join(root, 'a', 'b'), 0, 'cache directory');
  assert.equal((await stat(join(root, 'a', 'b'))).mode & 0o777, 0o700);
  await mkdir(join(root, 'readable'), { mode: 0o755 });
  await chmod(join(root, 'readable'), 0o755);
  await ensurePrivateDir(join(root, 'readable'), 0, 'cache directory');
  assert.equal((await stat(join(root, 'readable'))).mode & 0o777, 0o700);

  await mkdir(join(root, 'open'));
  await chmod(join(root, 'open'), 0o777);
  await assert.rejects(
    ensurePrivateDir(join(root, 'open'), 0, 'cache directory'),
    /cache directory .*open is writable by group or others \(mode 777\)/,
  );
  // Sticky and root-owned (like /tmp) is fine for a parent, never for the directory itself.
  await chmod(join(root, 'open'), 0o1777);
  await ensurePrivateDir(join(root, 'open', 'inner'), 0, 'cache directory');
  await assert.rejects(ensurePrivateDir(join(root, 'open'), 0, 'cache directory'), /mode 1777/);

  await mkdir(join(root, 'theirs', 'cache'), { recursive: true, mode: 0o700 });
  await chown(join(root, 'theirs'), 65534, 65534);
  await assert.rejects(
    ensurePrivateDir(join(root, 'theirs', 'cache'), 0, 'cache directory'),
    /theirs \(a parent of the cache directory .*\) is owned by uid 65534/,
  );
  // A symlink is judged by where it leads.
  await symlink(join(root, 'theirs', 'cache'), join(root, 'link'));
  await assert.rejects(ensurePrivateDir(join(root, 'link'), 0, 'cache directory'), /owned by uid 65534/);
  await writeFile(join(root, 'file'), '');
  await assert.rejects(
    ensurePrivateDir(join(root, 'file'), 0, 'cache directory'),
    /not a directory|EEXIST|ENOTDIR/,
  );
});

test('a verified directory is re-checked on one stat: itself changed is refused at once, an ancestor within VERIFIED_DIR_TTL_MS', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'mn-private-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const dir = join(root, 'p', 'cache');
  await ensurePrivateDir(dir, 0, 'cache directory');
  assert.equal(await checkPrivateDir(dir, 0, 'cache directory'), true);
  // Re-permissioned: refused on the next call, not after the TTL.
  await chmod(dir, 0o777);
  await assert.rejects(
    checkPrivateDir(dir, 0, 'cache directory'),
    /writable by group or others \(mode 777\)/,
  );
  // Replaced by another user's directory of the same name: refused at once as well.
  await rm(dir, { recursive: true });
  await ensurePrivateDir(dir, 0, 'cache directory');
  await rm(dir, { recursive: true });
  await mkdir(dir, { mode: 0o700 });
  await chown(dir, 65534, 65534);
  await assert.rejects(ensurePrivateDir(dir, 0, 'cache directory'), /owned by uid 65534/);
  // An ancestor opened up after a successful walk is caught once the verification runs out.
  await rm(dir, { recursive: true });
  await ensurePrivateDir(dir, 0, 'cache directory');
  await chmod(join(root, 'p'), 0o777);
  const started = Date.now();
  let refused: Error | undefined;
  while (!refused && Date.now() - started < VERIFIED_DIR_TTL_MS + 3_000) {
    refused = await checkPrivateDir(dir, 0, 'cache directory').then(
      () => undefined,
      (err: Error) => err,
    );
    if (!refused) await new Promise((r) => setTimeout(r, 100));
  }
  assert.match(String(refused?.message), /a parent of the cache directory .* is writable by group or others/);
});
