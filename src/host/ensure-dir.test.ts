import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ensureDir } from './ensure-dir.ts';

test('creates missing parents with the mode, and is idempotent', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'mn-ensure-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const leaf = join(dir, 'a', 'b', 'plans');
  await ensureDir(leaf, 0o700);
  await ensureDir(leaf, 0o700);
  assert.equal((await stat(leaf)).mode & 0o777, 0o700);
  assert.equal((await stat(join(dir, 'a'))).mode & 0o777, 0o700);
});

test('on a read-only file system the error says so (recursive mkdir would say ENOENT)', async (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root for a private mount namespace');
  const dir = await mkdtemp(join(tmpdir(), 'mn-ensure-ro-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  // A tmpfs in a private mount namespace that only the child process sees.
  const script = `mount -t tmpfs -o size=64k mn-test "$0" && mount -o remount,ro "$0" && exec "$@"`;
  const code = `import('${new URL('./ensure-dir.ts', import.meta.url).pathname}').then((m) => m.ensureDir(process.argv[1] + '/x/plans', 0o700)).catch((e) => console.log(e.code))`;
  const out = execFileSync(
    'unshare',
    ['--mount', 'sh', '-c', script, dir, process.execPath, '--import', 'tsx', '-e', code, dir],
    { encoding: 'utf8' },
  );
  assert.equal(out.trim(), 'EROFS');
});
