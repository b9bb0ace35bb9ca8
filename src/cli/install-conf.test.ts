// `multinet install --type thin --conf FILE`: the shipped thin DaemonSet installs its conflist
// (with the tenant policy) this way; a config multinet cannot parse is refused before any write.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runInstall } from './install-command.ts';

async function scene() {
  const dir = await mkdtemp(join(tmpdir(), 'mn-install-conf-'));
  const source = join(dir, 'plugin');
  await writeFile(source, '#!/bin/sh\n');
  const conf = join(dir, 'net.d');
  await mkdir(conf);
  const given = join(dir, 'admin.kubeconfig');
  await writeFile(
    given,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters: [{name: c, cluster: {server: "https://10.0.0.10:6443"}}]',
      'users: [{name: u, user: {token: secret-1}}]',
      'contexts: [{name: x, context: {cluster: c, user: u}}]',
      'current-context: x',
    ].join('\n'),
  );
  const opts = (confFile: string) => ({
    type: 'thin' as const,
    binDir: join(dir, 'bin'),
    cniConfDir: conf,
    kubeconfig: given,
    confFile,
    source,
    env: {},
    log: () => {},
  });
  return { dir, conf, opts };
}

const conflist = (plugin: Record<string, unknown>) =>
  JSON.stringify({ cniVersion: '1.0.0', name: 'multinet', plugins: [{ type: 'multinet', ...plugin }] });

describe('install --conf', () => {
  it('installs the given conflist as is, policy included', async () => {
    const { dir, conf, opts } = await scene();
    try {
      const text = conflist({
        clusterNetwork: '/etc/cni/net.d',
        tenantPolicy: { trustedNamespaces: ['kube-system'] },
      });
      await writeFile(join(dir, '00-multinet.conflist'), text);
      await runInstall(opts(join(dir, '00-multinet.conflist')));
      assert.equal(await readFile(join(conf, '00-multinet.conflist'), 'utf8'), text);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a conflist whose multinet options do not parse, and writes nothing', async () => {
    const { dir, conf, opts } = await scene();
    try {
      await writeFile(
        join(dir, '00-multinet.conflist'),
        conflist({ clusterNetwork: '/etc/cni/net.d', tenantPolicy: { trustedNamespace: ['kube-system'] } }),
      );
      await assert.rejects(
        runInstall(opts(join(dir, '00-multinet.conflist'))),
        /tenantPolicy\.trustedNamespace/,
      );
      assert.deepEqual(await readdir(conf), []);
      assert.deepEqual(await readdir(dir).then((f) => f.includes('bin')), false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
