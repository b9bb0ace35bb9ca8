/**
 * A host-process daemon or thin plugin authenticates with a kubeconfig `tokenFile` that an
 * administrator renews (docs/daemon.md). The client re-reads it when its mtime changes, and on
 * a 401 also when it does not (a copy that kept the old mtime, a change within the timestamp's
 * resolution). Real kube-apiserver.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { KubeRestClient } from '../../src/k8s/kube-rest-client.ts';
import { startControlPlane, type ControlPlane } from '../support/control-plane.ts';

describe('tokenFile renewal', () => {
  let cp: ControlPlane;
  let dir: string;
  before(async () => {
    cp = await startControlPlane();
    dir = await mkdtemp(join(tmpdir(), 'mn-token-'));
  });
  after(async () => {
    await cp?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('a renewed token is used after a 401 even when the file kept its mtime', async () => {
    const tokenFile = join(dir, 'token');
    await writeFile(tokenFile, 'expired-or-wrong\n', { mode: 0o600 });
    // A whole second, so that setting it again below gives exactly the same mtime.
    const atime = 1_700_000_000;
    const mtime = 1_700_000_000;
    await utimes(tokenFile, atime, mtime);
    const client = new KubeRestClient({
      server: cp.server,
      ca: readFileSync(cp.caFile),
      tokenFile,
      insecureSkipTlsVerify: false,
    });
    try {
      const list = () => client.request('GET', '/api/v1/pods?limit=1');
      assert.equal((await list()).status, 401, 'the wrong token is refused');
      assert.equal((await stat(tokenFile)).mtimeMs, mtime * 1000);
      await writeFile(tokenFile, `${cp.multinetToken}\n`);
      await utimes(tokenFile, atime, mtime);
      assert.equal((await list()).status, 200, 'the renewed token is read on the 401 and used');
      assert.equal((await list()).status, 200);
      // A wrong token written the ordinary way (new mtime) is read at once; still wrong after the
      // re-read on its 401, so the 401 is the answer (one retry, not a loop).
      await writeFile(tokenFile, 'wrong-again\n');
      await utimes(tokenFile, new Date(), new Date(Date.now() + 5_000));
      assert.equal((await list()).status, 401);
    } finally {
      client.close();
    }
  });
});
