import { once } from 'node:events';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
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
      await once(running, 'spawn'); // the binary is executing: replacing it in place would be ETXTBSY
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

  it('thin on a host without --kubeconfig fails before writing anything', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mn-install-'));
    try {
      const source = join(dir, 'plugin');
      await writeFile(source, '#!/bin/sh\n');
      const opts = {
        type: 'thin' as const,
        binDir: join(dir, 'bin'),
        cniConfDir: join(dir, 'net.d'),
        source,
        env: {},
        log: () => {},
      };
      await assert.rejects(runInstall(opts, join(dir, 'no-sa')), /not running in a pod .*--kubeconfig/);
      assert.deepEqual((await readdir(dir)).sort(), ['plugin'], 'no bin dir, no conf dir, no plugin');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('thin on a host with --kubeconfig: plugin, root-only credentials and the CNI config', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mn-install-'));
    try {
      const source = join(dir, 'plugin');
      await writeFile(source, '#!/bin/sh\n');
      const conf = join(dir, 'net.d');
      await mkdir(conf);
      await writeFile(
        join(conf, '10-podnet.conflist'),
        JSON.stringify({
          cniVersion: '0.4.0',
          name: 'podnet',
          plugins: [{ type: 'bridge' }, { type: 'portmap', capabilities: { portMappings: true } }],
        }),
      );
      await writeFile(join(dir, 'ca.pem'), 'CA');
      const given = join(dir, 'admin.kubeconfig');
      await writeFile(
        given,
        [
          'apiVersion: v1',
          'kind: Config',
          'clusters: [{name: c, cluster: {server: "https://10.0.0.10:6443", certificate-authority: ca.pem}}]',
          'users: [{name: u, user: {token: secret-1}}]',
          'contexts: [{name: x, context: {cluster: c, user: u}}]',
          'current-context: x',
        ].join('\n'),
      );
      const lines: string[] = [];
      await runInstall({
        type: 'thin',
        binDir: join(dir, 'bin'),
        cniConfDir: conf,
        kubeconfig: given,
        clusterNetwork: join(conf, '10-podnet.conflist'),
        source,
        env: {},
        log: (l) => lines.push(l),
      });
      const installed = join(conf, 'multinet.d', 'multinet.kubeconfig');
      const conn = parseKubeconfig(await readFile(installed, 'utf8'), installed, (p) => readFileSync(p));
      assert.equal(conn.server, 'https://10.0.0.10:6443');
      assert.equal(conn.ca?.toString(), 'CA');
      assert.equal(conn.tokenFile, join(conf, 'multinet.d', 'token'));
      assert.equal(await readFile(conn.tokenFile, 'utf8'), 'secret-1');
      for (const f of ['multinet.kubeconfig', 'token', 'ca.crt'])
        assert.equal((await stat(join(conf, 'multinet.d', f))).mode & 0o777, 0o600, f);
      assert.equal((await stat(join(conf, 'multinet.d'))).mode & 0o777, 0o700);
      assert.equal((await stat(join(dir, 'bin', 'multinet'))).mode & 0o777, 0o755);
      const list = JSON.parse(await readFile(join(conf, '00-multinet.conflist'), 'utf8'));
      assert.deepEqual(list, {
        cniVersion: '0.4.0',
        name: 'multinet',
        plugins: [
          {
            type: 'multinet',
            kubeconfig: installed,
            clusterNetwork: join(conf, '10-podnet.conflist'),
            capabilities: { portMappings: true },
          },
        ],
      });
      assert.equal(lines.length, 5, lines.join('\n'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('thin: a step that fails late leaves the previous install exactly as it was', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mn-install-'));
    try {
      const bin = join(dir, 'bin');
      const conf = join(dir, 'net.d');
      await mkdir(bin);
      await mkdir(join(conf, 'multinet.d'), { recursive: true });
      await writeFile(join(bin, 'multinet'), 'old plugin');
      await writeFile(join(conf, 'multinet.d', 'token'), 'old token');
      const given = join(dir, 'kubeconfig');
      await writeFile(
        given,
        'clusters: [{name: c, cluster: {server: "https://h:6443"}}]\nusers: [{name: u, user: {token: new}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n',
      );
      const source = join(dir, 'plugin');
      await writeFile(source, 'new plugin');
      // The plugin is installed before the CNI config; make that last write fail.
      await mkdir(join(conf, '00-multinet.conflist'));
      await writeFile(
        join(conf, '10-a.conf'),
        JSON.stringify({ cniVersion: '1.0.0', name: 'a', type: 'ptp' }),
      );
      await assert.rejects(
        runInstall({
          type: 'thin',
          binDir: bin,
          cniConfDir: conf,
          kubeconfig: given,
          clusterNetwork: join(conf, '10-a.conf'),
          source,
          env: {},
          log: () => {},
        }),
      );
      assert.equal(await readFile(join(bin, 'multinet'), 'utf8'), 'old plugin');
      assert.equal(await readFile(join(conf, 'multinet.d', 'token'), 'utf8'), 'old token');
      assert.deepEqual((await readdir(join(conf, 'multinet.d'))).sort(), ['token']);
      assert.deepEqual((await readdir(bin)).sort(), ['multinet']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('thin: refuses a default network that sorts before its own config', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mn-install-'));
    try {
      const conf = join(dir, 'net.d');
      await mkdir(conf);
      await writeFile(
        join(conf, '00-aaa.conf'),
        JSON.stringify({ cniVersion: '1.0.0', name: 'a', type: 'ptp' }),
      );
      const given = join(dir, 'kubeconfig');
      await writeFile(
        given,
        'clusters: [{name: c, cluster: {server: "https://h:6443"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n',
      );
      const source = join(dir, 'plugin');
      await writeFile(source, 'p');
      await assert.rejects(
        runInstall({
          type: 'thin',
          binDir: join(dir, 'bin'),
          cniConfDir: conf,
          kubeconfig: given,
          clusterNetwork: join(conf, '00-aaa.conf'),
          source,
          env: {},
          log: () => {},
        }),
        /sorts before 00-multinet\.conflist/,
      );
      assert.deepEqual(await readdir(conf), ['00-aaa.conf']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
