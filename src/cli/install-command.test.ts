import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseKubeconfig } from '../k8s/kubeconfig.ts';
import { runInstall, writeThinKubeconfig } from './install-command.ts';

describe('install', () => {
  it('replaces a shim that is running right now (no "text file busy"), leaving no temp file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mn-install-'));
    try {
      const bin = join(dir, 'bin');
      await mkdir(bin);
      const target = join(bin, 'multinet-shim');
      await copyFile('/bin/sleep', target);
      const running = spawn(target, ['5'], { stdio: 'ignore' });
      await new Promise((r) => setTimeout(r, 100));
      const source = join(dir, 'new-shim');
      await writeFile(source, '#!/bin/sh\necho new\n');
      const lines: string[] = [];
      await runInstall({ type: 'thick', binDir: bin, source, env: {}, log: (s) => lines.push(s) });
      running.kill();
      assert.equal(await readFile(target, 'utf8'), '#!/bin/sh\necho new\n');
      assert.equal((await stat(target)).mode & 0o777, 0o755);
      assert.deepEqual(await readdir(bin), ['multinet-shim']);
      assert.match(lines[0]!, /installed .* as .*multinet-shim/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('thin: writes a root-only kubeconfig that reads a token file, and refreshes the token when it rotates', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mn-install-'));
    try {
      const sa = join(dir, 'sa');
      await mkdir(sa);
      await writeFile(join(sa, 'token'), 'token-1\n');
      await writeFile(join(sa, 'ca.crt'), 'CA');
      const conf = join(dir, 'net.d');
      const opts = {
        type: 'thin' as const,
        binDir: join(dir, 'bin'),
        cniConfDir: conf,
        hostCniConfDir: '/etc/cni/net.d',
        env: { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' },
        log: () => {},
      };
      assert.equal(await writeThinKubeconfig(opts, sa), true);
      const text = await readFile(join(conf, 'multinet.d', 'multinet.kubeconfig'), 'utf8');
      const conn = parseKubeconfig(text, '/etc/cni/net.d/multinet.d/multinet.kubeconfig', () =>
        Buffer.from('CA'),
      );
      assert.equal(conn.server, 'https://10.96.0.1:443');
      assert.equal(conn.tokenFile, '/etc/cni/net.d/multinet.d/token');
      assert.equal((await stat(join(conf, 'multinet.d', 'token'))).mode & 0o777, 0o600);
      assert.equal(await writeThinKubeconfig(opts, sa), false, 'unchanged token: nothing to do');
      await writeFile(join(sa, 'token'), 'token-2\n');
      assert.equal(await writeThinKubeconfig(opts, sa), true);
      assert.equal(await readFile(join(conf, 'multinet.d', 'token'), 'utf8'), 'token-2');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
