import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseKubeconfig } from './kubeconfig.ts';

const SECRET = 'eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LXBheWxvYWQtdGhhdC1tdXN0LW5vdC1sZWFr.c2lnbmF0dXJl';

test('a malformed kubeconfig is reported by line, never by quoting its content', () => {
  const text = [
    'apiVersion: v1',
    'clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]',
    'users:',
    '- name: u',
    '  user:',
    `    token: ${SECRET}: [oops`,
    'contexts: [{name: x, context: {cluster: c, user: u}}]',
    'current-context: x',
  ].join('\n');
  assert.throws(
    () => parseKubeconfig(text, '/etc/kubeconfig', () => Buffer.alloc(0)),
    (err: Error) => {
      assert.match(err.message, /^kubeconfig \/etc\/kubeconfig: not valid YAML at line 6 \(/);
      for (let i = 0; i + 16 <= SECRET.length; i += 4)
        assert.ok(!err.message.includes(SECRET.slice(i, i + 16)), err.message);
      return true;
    },
  );
});
