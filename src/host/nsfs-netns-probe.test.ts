import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { probeNetns } from './nsfs-netns-probe.ts';

test('netns probe: present only for nsfs, gone only where the directory is visible', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mn-netns-probe-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'left-behind'), '');
  assert.deepEqual(await probeNetns('/proc/self/ns/net'), { state: 'present' });
  assert.equal((await probeNetns(join(dir, 'missing'))).state, 'gone');
  const stale = await probeNetns(join(dir, 'left-behind'));
  assert.equal(stale.state, 'gone');
  assert.match((stale as { why: string }).why, /no longer a network namespace mount/);
  // gc run where the runtime's netns directory is not mounted must not see every sandbox gone.
  const hidden = await probeNetns(join(dir, 'no-such-dir', 'cni-1'));
  assert.equal(hidden.state, 'unknown');
  assert.match((hidden as { why: string }).why, /not visible here/);
  assert.equal((await probeNetns('/proc/999999999/ns/net')).state, 'unknown');
  assert.equal((await probeNetns('relative/path')).state, 'unknown');
  assert.equal((await probeNetns('/run/netns/../etc')).state, 'unknown');
});
