import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { invokedAsKubectlPlugin, kubectlPluginArgv } from './kubectl-plugin.ts';

test('kubectl plugin: the kubeconfig kubectl would use, only read-only commands', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mn-kplugin-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const [a, b] = [join(dir, 'a'), join(dir, 'b')];
  writeFileSync(b, '');
  mkdirSync(join(dir, 'home', '.kube'), { recursive: true });
  writeFileSync(join(dir, 'home', '.kube', 'config'), '');
  const home = join(dir, 'home');
  // The first existing file of $KUBECONFIG; a set KUBECONFIG replaces ~/.kube/config.
  assert.deepEqual(kubectlPluginArgv(['status'], { KUBECONFIG: `${a}:${b}`, HOME: home }), {
    argv: ['status', '--kubeconfig', b],
  });
  assert.deepEqual(kubectlPluginArgv(['status'], { KUBECONFIG: a, HOME: home }), { argv: ['status'] });
  assert.deepEqual(kubectlPluginArgv(['status', '-o', 'json'], { HOME: home }), {
    argv: ['status', '-o', 'json', '--kubeconfig', join(home, '.kube', 'config')],
  });
  assert.deepEqual(kubectlPluginArgv(['status', '--kubeconfig=x'], { HOME: home }), {
    argv: ['status', '--kubeconfig=x'],
  });
  assert.deepEqual(kubectlPluginArgv(['explain', 'team-a/web'], { HOME: home }), {
    argv: ['explain', 'team-a/web', '--kubeconfig', join(home, '.kube', 'config')],
  });
  assert.deepEqual(kubectlPluginArgv(['explain', 'team-a/web', '--kubeconfig', 'k'], { HOME: home }), {
    argv: ['explain', 'team-a/web', '--kubeconfig', 'k'],
  });
  assert.deepEqual(kubectlPluginArgv(['validate', 'f.yaml'], { HOME: home }), {
    argv: ['validate', 'f.yaml'],
  });
  for (const refused of [['install'], ['daemon'], ['cni'], []])
    assert.ok('error' in kubectlPluginArgv(refused, { HOME: home }), refused.join(' '));
  assert.equal(invokedAsKubectlPlugin('/home/u/bin/kubectl-multinet', '/usr/bin/node'), true);
  assert.equal(invokedAsKubectlPlugin('/usr/lib/multinet/dist/multinet-cni.cjs', '/usr/bin/node'), false);
  assert.equal(invokedAsKubectlPlugin(undefined, '/usr/local/bin/kubectl-multinet'), true);
});
