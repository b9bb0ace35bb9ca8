import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EXEC_API_VERSION, ExecCredentialSource, type ExecRunner } from './exec-credential.ts';

const exec = {
  apiVersion: EXEC_API_VERSION,
  command: 'get-token',
  args: ['--x'],
  env: [{ name: 'A', value: 'b' }],
};
const credential = (token: string, expirationTimestamp?: string) =>
  JSON.stringify({
    apiVersion: EXEC_API_VERSION,
    kind: 'ExecCredential',
    status: { token, ...(expirationTimestamp ? { expirationTimestamp } : {}) },
  });

test('an exec plugin token is cached until its expirationTimestamp, and refreshed on demand', async () => {
  let now = Date.parse('2026-12-01T10:00:00Z');
  const runs: { args: string[]; env: Record<string, string> }[] = [];
  const run: ExecRunner = async (_command, args, env) => {
    runs.push({ args, env });
    return credential(`tok-${runs.length}`, '2026-12-01T10:05:00Z');
  };
  const source = new ExecCredentialSource({ ...exec, baseEnv: { HOME: '/root' } }, run, () => now);
  assert.equal(await source.token(), 'tok-1');
  assert.equal(await source.token(), 'tok-1', 'cached');
  assert.equal(runs.length, 1);
  assert.deepEqual(runs[0]!.args, ['--x']);
  assert.equal(runs[0]!.env['A'], 'b');
  assert.equal(runs[0]!.env['HOME'], '/root');
  assert.equal(JSON.parse(runs[0]!.env['KUBERNETES_EXEC_INFO']!).kind, 'ExecCredential');
  now = Date.parse('2026-12-01T10:05:00Z');
  assert.equal(await source.token(), 'tok-2', 'expired: run again');
  assert.equal(await source.token(true), 'tok-3', 'a 401 forces a run');
  const [a, b] = await Promise.all([source.token(true), source.token(true)]);
  assert.equal(a, b, 'one run at a time');
});

test('a plugin that fails or prints something else is an error naming the plugin', async () => {
  const answers: Record<string, string> = {
    json: 'not json',
    kind: JSON.stringify({ apiVersion: EXEC_API_VERSION, kind: 'Other' }),
    version: JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1beta1', kind: 'ExecCredential' }),
    token: JSON.stringify({ apiVersion: EXEC_API_VERSION, kind: 'ExecCredential', status: {} }),
    cert: JSON.stringify({
      apiVersion: EXEC_API_VERSION,
      kind: 'ExecCredential',
      status: { clientCertificateData: 'x', clientKeyData: 'y' },
    }),
    time: credential('t', 'tomorrow'),
  };
  const want: Record<string, RegExp> = {
    json: /not JSON/,
    kind: /kind "Other"/,
    version: /answered "client\.authentication\.k8s\.io\/v1beta1"/,
    token: /no status\.token/,
    cert: /client certificates .* not supported/,
    time: /"tomorrow" is not a time/,
  };
  for (const [key, out] of Object.entries(answers)) {
    const source = new ExecCredentialSource(exec, async () => out);
    await assert.rejects(source.token(), (err: Error) => {
      assert.match(err.message, /kubeconfig exec plugin get-token/);
      assert.match(err.message, want[key]!);
      return true;
    });
  }
  const failing = new ExecCredentialSource(exec, () =>
    Promise.reject(new Error('exit 1: token expired, run aws sso login')),
  );
  await assert.rejects(failing.token(), /get-token failed: exit 1: token expired/);
});
