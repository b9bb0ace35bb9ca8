import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CniError } from '../cni/cni-error.ts';
import type { ResultCacheRecord } from '../cni/result-cache.ts';
import { writeFileAtomic } from './atomic-file.ts';
import { FileResultCache } from './file-result-cache.ts';

const record: ResultCacheRecord = {
  kind: 'cniCacheV1',
  containerId: 'c1',
  config: Buffer.from('{}').toString('base64'),
  ifName: 'eth0',
  networkName: 'net',
  netns: '/run/netns/p',
  cniArgs: [['K', 'V']],
  capabilityArgs: {},
  result: { cniVersion: '1.0.0' },
};
const key = { networkName: 'net', containerId: 'c1', ifName: 'eth0' };

async function tempDir(t: { after: (fn: () => Promise<void>) => void }) {
  const dir = await mkdtemp(join(tmpdir(), 'mn-cache-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('writes libcni layout with 0700 directory and 0600 file', async (t) => {
  const dir = await tempDir(t);
  const cache = new FileResultCache(dir);
  assert.equal(await cache.get(key), undefined);
  assert.deepEqual(await cache.list(), [], 'a missing directory lists nothing');
  await cache.put(record);
  assert.equal((await stat(join(dir, 'results'))).mode & 0o777, 0o700);
  const file = join(dir, 'results', 'net-c1-eth0');
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  assert.equal(JSON.parse(await readFile(file, 'utf8')).kind, 'cniCacheV1');
  assert.deepEqual(await cache.get(key), record);
  await cache.put({ ...record, netns: '/other' });
  assert.equal((await cache.get(key))?.netns, '/other');
  assert.deepEqual(await readdir(join(dir, 'results')), ['net-c1-eth0'], 'no temporary files left');
  await cache.delete(key);
  await cache.delete(key);
  assert.equal(await cache.get(key), undefined);
});

test('list filters by container like GetCachedAttachments and skips junk', async (t) => {
  const dir = await tempDir(t);
  const cache = new FileResultCache(dir);
  await cache.put(record);
  await cache.put({ ...record, containerId: 'c10' });
  await cache.put({ ...record, networkName: 'b', ifName: 'net1' });
  await writeFile(join(dir, 'results', 'net-c1-junk'), 'garbage');
  await writeFile(join(dir, 'results', 'net-c1-bare'), '{"cniVersion":"0.3.1"}');
  await writeFile(join(dir, 'results', '.net-c1-eth0.abc.tmp'), 'partial');
  assert.deepEqual(
    (await cache.list('c1')).map((r) => `${r.networkName}/${r.ifName}`),
    ['b/net1', 'net/eth0'],
  );
  assert.equal((await cache.list()).length, 3);
  await assert.rejects(
    cache.get({ ...key, ifName: 'junk' }),
    (e: unknown) => e instanceof CniError && e.code === 6,
  );
  assert.equal(
    (await cache.get({ ...key, ifName: 'bare' }))?.containerId,
    'c1',
    'a bare legacy result reads back',
  );
});

test('writeFileAtomic replaces content and cleans up after a failed write', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'f');
  await writeFileAtomic(path, 'one');
  await writeFileAtomic(path, 'two', 0o640);
  assert.equal(await readFile(path, 'utf8'), 'two');
  assert.equal((await stat(path)).mode & 0o777, 0o640);
  await assert.rejects(writeFileAtomic(join(dir, 'missing-dir', 'f'), 'x'), /ENOENT/);
  await assert.rejects(writeFileAtomic(join(dir, 'f', 'sub'), 'x'), /ENOTDIR/);
  assert.deepEqual(await readdir(dir), ['f']);
});
