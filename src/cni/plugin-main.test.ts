import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { CniRequest } from './cni-env.ts';
import { CniError } from './cni-error.ts';
import { DelegateError } from './delegate-error.ts';
import { runPluginMain, type PluginHandlers } from './plugin-main.ts';

const calls: string[] = [];
const handlers: PluginHandlers = {
  supportedVersions: ['0.2.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'],
  about: 'multinet test',
  add: async (req: CniRequest) => {
    calls.push(`ADD ${req.ifName}`);
    if (req.config?.plugins[0]?.raw.fail === 'plain') throw new Error('boom');
    if (req.config?.plugins[0]?.raw.fail === 'delegate') {
      throw new DelegateError({
        code: 7,
        msg: 'bad subnet',
        pluginType: 'bridge',
        command: 'ADD',
        reason: 'plugin-error',
      });
    }
    if (req.config?.plugins[0]?.raw.fail === 'cni') throw new CniError(11, 'later', 'API server down');
    return {
      cniVersion: '1.1.0',
      interfaces: [{ name: 'eth0', mtu: 1500, sandbox: req.netns }],
      ips: [{ address: '10.1.0.5/24', interface: 0 }],
    };
  },
  del: async () => void calls.push('DEL'),
  check: async () => void calls.push('CHECK'),
  gc: async () => void calls.push('GC'),
};
const env = (command: string) => ({
  CNI_COMMAND: command,
  CNI_CONTAINERID: 'c1',
  CNI_NETNS: '/run/netns/p',
  CNI_IFNAME: 'eth0',
  CNI_PATH: '/opt/cni/bin',
});
const conf = (cniVersion: string, extra: object = {}) =>
  JSON.stringify({ cniVersion, name: 'net', type: 'multinet', ...extra });

test('ADD prints the result converted to the config version', async () => {
  const out = await runPluginMain(env('ADD'), conf('0.4.0'), handlers);
  assert.equal(out.exitCode, 0);
  assert.deepEqual(JSON.parse(out.stdout), {
    cniVersion: '0.4.0',
    interfaces: [{ name: 'eth0', sandbox: '/run/netns/p' }],
    ips: [{ version: '4', address: '10.1.0.5/24', interface: 0 }],
  });
  const old = await runPluginMain(env('ADD'), conf('0.2.0'), handlers);
  assert.deepEqual(JSON.parse(old.stdout), { cniVersion: '0.2.0', ip4: { ip: '10.1.0.5/24' } });
});

test('VERSION echoes the requested version and lists ours; no env beyond CNI_COMMAND needed', async () => {
  const out = await runPluginMain({ CNI_COMMAND: 'VERSION' }, '{"cniVersion":"0.4.0"}', handlers);
  assert.deepEqual(JSON.parse(out.stdout), {
    cniVersion: '0.4.0',
    supportedVersions: handlers.supportedVersions,
  });
  const noStdin = await runPluginMain({ CNI_COMMAND: 'VERSION' }, '', handlers);
  assert.equal(JSON.parse(noStdin.stdout).cniVersion, '1.1.0');
});

test('about text without CNI_COMMAND', async () => {
  const out = await runPluginMain({}, '', handlers);
  assert.equal(out.exitCode, 0);
  assert.match(out.stderr, /multinet test\nCNI protocol versions supported: 0.2.0, /);
});

test('version gates: unsupported config version, CHECK < 0.4.0, GC/STATUS < 1.1.0', async () => {
  const cases: [string, string, RegExp][] = [
    ['ADD', '0.3.0', /incompatible CNI versions/],
    ['CHECK', '0.3.1', /does not allow CHECK/],
    ['GC', '1.0.0', /does not allow GC/],
    ['STATUS', '1.0.0', /does not allow STATUS/],
  ];
  for (const [cmd, version, re] of cases) {
    const out = await runPluginMain(env(cmd), conf(version), handlers);
    assert.equal(out.exitCode, 1);
    const err = JSON.parse(out.stdout) as { code: number; msg: string; cniVersion: string };
    assert.equal(err.code, 1);
    assert.match(err.msg, re);
    assert.equal(err.cniVersion, version);
  }
  calls.length = 0;
  for (const cmd of ['DEL', 'CHECK', 'GC', 'STATUS']) {
    assert.equal((await runPluginMain(env(cmd), conf('1.1.0'), handlers)).exitCode, 0, cmd);
  }
  assert.deepEqual(calls, ['DEL', 'CHECK', 'GC'], 'STATUS without a handler means ready');
});

test('errors become the spec JSON on stdout with a non-zero exit: CniError as-is, coded errors keep their code, others 999', async () => {
  const run = async (fail: string) =>
    JSON.parse((await runPluginMain(env('ADD'), conf('1.0.0', { fail }), handlers)).stdout);
  assert.deepEqual(await run('cni'), {
    cniVersion: '1.0.0',
    code: 11,
    msg: 'later',
    details: 'API server down',
  });
  const delegate = await run('delegate');
  assert.equal(delegate.code, 7);
  assert.match(delegate.msg, /bad subnet/);
  assert.deepEqual(await run('plain'), { cniVersion: '1.0.0', code: 999, msg: 'boom' });
  const missing = await runPluginMain({ CNI_COMMAND: 'ADD' }, conf('1.0.0'), handlers);
  assert.equal(JSON.parse(missing.stdout).code, 4);
  const badJson = await runPluginMain(env('DEL'), '{', handlers);
  assert.equal(JSON.parse(badJson.stdout).code, 6);
});

test('property: any env/stdin gives exit 0, or exit 1 with a CNI error object on stdout', async () => {
  const envArb = fc.record(
    {
      CNI_COMMAND: fc.constantFrom('ADD', 'DEL', 'CHECK', 'GC', 'STATUS', 'VERSION', 'X', ''),
      CNI_CONTAINERID: fc.string(),
      CNI_NETNS: fc.string(),
      CNI_IFNAME: fc.string(),
      CNI_PATH: fc.string(),
      CNI_ARGS: fc.string(),
    },
    { requiredKeys: [] },
  );
  const stdinArb = fc.oneof(fc.string(), fc.json(), fc.constantFrom(conf('1.0.0'), conf('0.4.0'), conf('')));
  await fc.assert(
    fc.asyncProperty(envArb, stdinArb, async (e, stdin) => {
      const out = await runPluginMain(e, stdin, { ...handlers, about: undefined });
      if (out.exitCode === 0) return;
      assert.equal(out.exitCode, 1);
      const err = JSON.parse(out.stdout) as { code: unknown; msg: unknown };
      assert.equal(typeof err.code, 'number');
      assert.equal(typeof err.msg, 'string');
    }),
  );
});
