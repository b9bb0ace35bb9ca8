import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PostResult, ShimDeps } from './run-shim.ts';
import { runShim } from './run-shim.ts';

/** FAKE transport: scripted answers (test/integration runs the bundled shim against the daemon). */
function fakeDeps(answers: (PostResult | Error)[]) {
  let now = 0;
  const posts: { socket: string; body: Record<string, unknown> }[] = [];
  const deps: ShimDeps = {
    post: async (socket, _path, body) => {
      posts.push({ socket, body: JSON.parse(body) as Record<string, unknown> });
      const next = answers.length > 1 ? answers.shift()! : answers[0]!;
      if (next instanceof Error) throw next;
      return next;
    },
    sleep: async (ms) => void (now += ms),
    now: () => now,
  };
  return { deps, posts, elapsed: () => now };
}

const refused = () =>
  Object.assign(new Error('connect ECONNREFUSED /run/x/multinet.sock'), { code: 'ECONNREFUSED' });
const conf = JSON.stringify({
  cniVersion: '1.0.0',
  name: 'm',
  plugins: [{ type: 'multinet-shim', socketPath: '/run/x/multinet.sock' }],
});
const env = (command: string) => ({
  CNI_COMMAND: command,
  CNI_CONTAINERID: 'c1',
  CNI_NETNS: '/run/netns/p',
  CNI_IFNAME: 'eth0',
  CNI_PATH: '/opt/cni/bin',
  CNI_ARGS: 'K8S_POD_NAME=p',
  SECRET_TOKEN: 'must-not-be-forwarded',
});

describe('runShim', () => {
  it('forwards only the CNI variables and stdin, prints the daemon answer', async () => {
    const f = fakeDeps([
      { status: 200, body: JSON.stringify({ exitCode: 0, stdout: '{"cniVersion":"1.0.0"}\n' }) },
    ]);
    const out = await runShim(env('ADD'), conf, f.deps);
    assert.deepEqual(out, { stdout: '{"cniVersion":"1.0.0"}\n', stderr: '', exitCode: 0 });
    assert.equal(f.posts[0]!.socket, '/run/x/multinet.sock');
    assert.deepEqual(Object.keys(f.posts[0]!.body['env'] as object).sort(), [
      'CNI_ARGS',
      'CNI_COMMAND',
      'CNI_CONTAINERID',
      'CNI_IFNAME',
      'CNI_NETNS',
      'CNI_PATH',
    ]);
    assert.equal(f.posts[0]!.body['config'], conf);
  });

  it('passes a CNI error through with its exit code', async () => {
    const err = '{"code":7,"msg":"bad"}\n';
    const f = fakeDeps([{ status: 200, body: JSON.stringify({ exitCode: 1, stdout: err }) }]);
    assert.deepEqual(await runShim(env('ADD'), conf, f.deps), { stdout: err, stderr: '', exitCode: 1 });
  });

  it('ADD with no daemon: code 11 at once, naming the socket', async () => {
    const f = fakeDeps([refused()]);
    const out = await runShim(env('ADD'), conf, f.deps);
    assert.equal(out.exitCode, 1);
    const e = JSON.parse(out.stdout) as { code: number; msg: string; cniVersion: string };
    assert.equal(e.code, 11);
    assert.match(e.msg, /\/run\/x\/multinet\.sock/);
    assert.equal(e.cniVersion, '1.0.0');
    assert.equal(f.posts.length, 1);
  });

  it('STATUS with no daemon: 50 "plugin not available" at once, naming the socket', async () => {
    const f = fakeDeps([refused()]);
    const out = await runShim(env('STATUS'), conf, f.deps);
    assert.equal(out.exitCode, 1);
    const e = JSON.parse(out.stdout) as { code: number; msg: string; details: string };
    assert.equal(e.code, 50);
    assert.equal(e.msg, 'plugin not available');
    assert.match(e.details, /\/run\/x\/multinet\.sock/);
    assert.equal(f.posts.length, 1);
  });

  it('DEL with no daemon retries until its deadline, then reports the error (never success)', async () => {
    const f = fakeDeps([refused()]);
    const out = await runShim(env('DEL'), conf, f.deps);
    assert.equal(out.exitCode, 1);
    assert.equal((JSON.parse(out.stdout) as { code: number }).code, 11);
    assert.ok(f.posts.length > 5, `retried ${f.posts.length} times`);
    assert.ok(f.elapsed() <= 10_000 && f.elapsed() >= 8_000, `waited ${f.elapsed()} ms`);
  });

  it('DEL succeeds once the daemon is back, also after a saturated answer', async () => {
    const busy = { status: 503, body: JSON.stringify({ exitCode: 1, stdout: '{"code":11,"msg":"busy"}\n' }) };
    const f = fakeDeps([refused(), busy, { status: 200, body: JSON.stringify({ exitCode: 0, stdout: '' }) }]);
    assert.deepEqual(await runShim(env('DEL'), conf, f.deps), { stdout: '', stderr: '', exitCode: 0 });
    assert.equal(f.posts.length, 3);
  });

  it('answers VERSION locally and uses the default socket without a socketPath', async () => {
    const f = fakeDeps([refused()]);
    const v = await runShim({ CNI_COMMAND: 'VERSION' }, '{"cniVersion":"0.4.0"}', f.deps);
    assert.deepEqual(JSON.parse(v.stdout), {
      cniVersion: '0.4.0',
      supportedVersions: ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'],
    });
    assert.equal(f.posts.length, 0);
    const add = await runShim(env('ADD'), '{"cniVersion":"1.0.0","name":"m","type":"multinet-shim"}', f.deps);
    assert.match(add.stdout, /\/run\/multinet\/multinet\.sock/);
  });

  it('reports an unexpected answer as code 999', async () => {
    const f = fakeDeps([{ status: 502, body: 'gateway?' }]);
    const out = await runShim(env('CHECK'), conf, f.deps);
    assert.equal((JSON.parse(out.stdout) as { code: number }).code, 999);
  });
});
