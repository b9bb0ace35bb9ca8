import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { removeInterruptedWrites, writeFileAtomic } from './atomic-file.ts';

test('removeInterruptedWrites removes only the temporary files of interrupted atomic writes', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'mn-atomic-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFileAtomic(join(dir, 'ctr1'), 'plan');
  // What a SIGKILL between write and rename leaves, and files that only look similar.
  await writeFile(join(dir, '.ctr2.0123456789ab.tmp'), 'half a pl');
  await writeFile(join(dir, '.podnet-ctr3-eth0.a1b2c3d4e5f6.tmp'), '');
  await writeFile(join(dir, 'notes.tmp'), 'kept');
  await writeFile(join(dir, '.hidden'), 'kept');
  assert.equal(await removeInterruptedWrites(dir), 2);
  assert.deepEqual((await readdir(dir)).sort(), ['.hidden', 'ctr1', 'notes.tmp']);
  assert.equal(await readFile(join(dir, 'ctr1'), 'utf8'), 'plan');
  assert.equal(await removeInterruptedWrites(join(dir, 'missing')), 0);
});

test("removeInterruptedWrites with an age keeps fresh temporary files except the caller's own", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'mn-atomic-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  // Fresh files: another call may be writing them, unless they belong to the locked container.
  await writeFile(join(dir, '.podnet-ctrA-eth0.0123456789ab.tmp'), 'half');
  await writeFile(join(dir, '.podnet-ctrB-eth0.0123456789ab.tmp'), 'being written');
  const removed = await removeInterruptedWrites(dir, 600_000, (target) => target.includes('-ctrA-'));
  assert.equal(removed, 1);
  assert.deepEqual(await readdir(dir), ['.podnet-ctrB-eth0.0123456789ab.tmp']);
  assert.equal(await removeInterruptedWrites(dir, 600_000), 0, 'fresh files of others stay');
});
