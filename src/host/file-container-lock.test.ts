import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat, symlink, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ContainerLockTimeout, FileContainerLocks } from './file-container-lock.ts';

async function cacheDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mn-lock-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('two holders of one container take turns; other containers do not wait', async (t) => {
  const dir = await cacheDir(t);
  // Separate instances open separate file descriptions: flock(2) makes them conflict as two
  // processes would.
  const [a, b] = [new FileContainerLocks(dir), new FileContainerLocks(dir)];
  const first = await a.acquire('c1');
  const order: string[] = [];
  const second = b.acquire('c1').then((l) => {
    order.push('second');
    return l;
  });
  const other = await b.acquire('c2');
  order.push('other');
  await other.release();
  order.push('first released');
  await first.release();
  await (await second).release();
  assert.deepEqual(order, ['other', 'first released', 'second']);
  assert.equal((await stat(join(dir, 'locks'))).mode & 0o777, 0o700);
  assert.equal((await stat(join(dir, 'locks', 'c1'))).mode & 0o777, 0o600);
});

test('a lock file removed by its holder (after DEL) is not trusted by a waiter', async (t) => {
  const dir = await cacheDir(t);
  const [a, b, c] = [new FileContainerLocks(dir), new FileContainerLocks(dir), new FileContainerLocks(dir)];
  const first = await a.acquire('c1');
  const waiter = b.acquire('c1');
  await first.release({ remove: true });
  const second = await waiter;
  // The waiter locked a file that is there: a third caller must wait for it.
  let third = false;
  const late = c.acquire('c1').then((l) => ((third = true), l));
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(third, false);
  await second.release();
  await (await late).release({ remove: true });
  assert.deepEqual(await readdir(join(dir, 'locks')), []);
});

test('the wait is bounded: "try again later" when another call holds the lock too long', async (t) => {
  const dir = await cacheDir(t);
  const held = await new FileContainerLocks(dir).acquire('c1');
  await assert.rejects(new FileContainerLocks(dir, { waitMs: 1000 }).acquire('c1'), ContainerLockTimeout);
  await held.release();
});

test('refuses path-like container IDs and a symlink in place of a lock file', async (t) => {
  const dir = await cacheDir(t);
  const locks = new FileContainerLocks(dir);
  await assert.rejects(locks.acquire('../x'), /invalid container ID/);
  await mkdir(join(dir, 'locks'), { mode: 0o700 });
  await writeFile(join(dir, 'target'), 'x');
  await symlink(join(dir, 'target'), join(dir, 'locks', 'c1'));
  await assert.rejects(locks.acquire('c1'), /ELOOP/);
});
