import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { CniError } from './cni-error.ts';
import { DelegateError } from './delegate-error.ts';
import { errorFromOutcome, runPlugin, runPluginWithResult } from './invoke.ts';
import { getVersionInfo, parseVersionInfo } from './plugin-version-info.ts';
import type { PluginExecOutcome, PluginExecRequest, PluginRunner } from './plugin-runner.ts';

/** Answers each exec with the next scripted outcome (or throws it when it is an Error). */
class ScriptedRunner implements PluginRunner {
  readonly calls: PluginExecRequest[] = [];
  constructor(private readonly script: (Partial<PluginExecOutcome> | Error)[]) {}
  async exec(req: PluginExecRequest): Promise<PluginExecOutcome> {
    this.calls.push(req);
    const next = this.script.shift() ?? {};
    if (next instanceof Error) throw next;
    return { exitCode: 0, signal: null, stdout: '', stderr: '', timedOut: false, ...next };
  }
}

const req = {
  pluginType: 'bridge',
  pluginPath: '/usr/lib/cni/bridge',
  command: 'ADD' as const,
  env: { CNI_COMMAND: 'ADD' },
  stdin: '{}',
  network: 'net',
};
const deps = (runner: PluginRunner) => ({ runner, timeoutMs: 1000, retryDelayMs: 1 });
const failed = (outcome: Partial<PluginExecOutcome>) =>
  errorFromOutcome({ exitCode: 1, signal: null, stdout: '', stderr: '', timedOut: false, ...outcome }, req);

test('ADD: result parsed, missing version filled from the config, stderr handed over', async () => {
  const seen: string[] = [];
  const runner = new ScriptedRunner([{ stdout: '{"ips":[{"address":"10.1.0.5/24"}]}', stderr: 'log line' }]);
  const result = await runPluginWithResult(
    { ...deps(runner), onStderr: (_t, s) => seen.push(s) },
    req,
    '1.0.0',
  );
  assert.deepEqual(result, { cniVersion: '1.0.0', ips: [{ address: '10.1.0.5/24' }] });
  assert.deepEqual(seen, ['log line']);
  assert.equal(runner.calls[0]?.stdin, '{}');
  assert.equal(runner.calls[0]?.timeoutMs, 1000);
});

test('ADD: empty or garbage stdout on success is a clear bad-output error', async () => {
  const empty = runPluginWithResult(deps(new ScriptedRunner([{ stdout: '  \n' }])), req, '1.0.0');
  await assert.rejects(
    empty,
    (e: unknown) =>
      e instanceof DelegateError && e.reason === 'bad-output' && /printed no result/.test(e.message),
  );
  const garbage = runPluginWithResult(deps(new ScriptedRunner([{ stdout: 'hello' }])), req, '1.0.0');
  await assert.rejects(
    garbage,
    (e: unknown) => e instanceof DelegateError && e.code === 6 && /hello/.test(e.message),
  );
});

test('errors: JSON on stdout wins, keeps the plugin code and a libcni-style message', () => {
  const e = failed({ stdout: '{"code":7,"msg":"bad config","details":"subnet missing"}', stderr: 'noise' });
  assert.equal(e.code, 7);
  assert.equal(e.reason, 'plugin-error');
  assert.equal(e.message, 'plugin type="bridge" for network "net" failed (add): bad config; subnet missing');
  assert.equal(e.stderr, 'noise');
  assert.equal(failed({ stdout: '{"msg":"no code"}' }).code, 999);
});

test('errors: empty stdout falls back to stderr (JSON or text); garbage and silence are described', () => {
  assert.equal(failed({ stderr: '{"code":11,"msg":"busy"}' }).code, 11);
  assert.equal(failed({ stderr: '{"code":11,"msg":"busy"}' }).retryable, true);
  const text = failed({ stderr: 'panic: oops', exitCode: 2 });
  assert.match(text.message, /netplugin failed \(exit status 2\); panic: oops/);
  assert.equal(text.reason, 'bad-output');
  assert.match(failed({ stdout: 'not json' }).message, /not a CNI error object; "not json"/);
  assert.match(failed({}).message, /no error message \(exit status 1\)/);
  const crash = failed({ exitCode: null, signal: 'SIGSEGV' });
  assert.equal(crash.reason, 'crashed');
  assert.match(crash.message, /killed by signal SIGSEGV/);
  const long = failed({ stderr: 'x'.repeat(10000) });
  assert.ok(long.message.length < 5000, 'long output is clipped');
});

test('timeouts and exec failures', async () => {
  const timeout = runPlugin(
    deps(new ScriptedRunner([{ timedOut: true, exitCode: null, signal: 'SIGKILL' }])),
    req,
  );
  await assert.rejects(
    timeout,
    (e: unknown) =>
      e instanceof DelegateError &&
      e.reason === 'timeout' &&
      e.retryable &&
      /timed out after 1000 ms/.test(e.message),
  );
  const enoent = Object.assign(new Error('spawn /x ENOENT'), { code: 'ENOENT' });
  await assert.rejects(
    runPlugin(deps(new ScriptedRunner([enoent])), req),
    (e: unknown) => e instanceof DelegateError && e.reason === 'exec-failed' && e.cause === enoent,
  );
});

test('"text file busy" is retried like libcni, up to six runs', async () => {
  const busy = () => Object.assign(new Error('spawn ETXTBSY'), { code: 'ETXTBSY' });
  const runner = new ScriptedRunner([busy(), busy(), { stdout: 'ok' }]);
  assert.equal(await runPlugin(deps(runner), { ...req, command: 'DEL' }), 'ok');
  assert.equal(runner.calls.length, 3);
  const always = new ScriptedRunner([busy(), busy(), busy(), busy(), busy(), busy(), busy()]);
  await assert.rejects(
    runPlugin(deps(always), req),
    (e: unknown) => e instanceof DelegateError && e.reason === 'exec-failed',
  );
  assert.equal(always.calls.length, 6);
});

test('an aborted run is reported as aborted', async () => {
  const ac = new AbortController();
  ac.abort();
  const runner = new ScriptedRunner([new Error('aborted')]);
  await assert.rejects(
    runPlugin(deps(runner), { ...req, signal: ac.signal }),
    (e: unknown) => e instanceof DelegateError && e.reason === 'aborted',
  );
});

test('VERSION: probe like libcni; 0.1.0 plugins and 0.2.0 answers', async () => {
  const runner = new ScriptedRunner([
    { stdout: '{"cniVersion":"1.0.0","supportedVersions":["0.4.0","1.0.0"]}' },
  ]);
  const info = await getVersionInfo(deps(runner), { pluginType: 'x', pluginPath: '/x' });
  assert.deepEqual(info.supportedVersions, ['0.4.0', '1.0.0']);
  const call = runner.calls[0];
  assert.equal(call?.env.CNI_COMMAND, 'VERSION');
  assert.equal(call?.env.CNI_NETNS, 'dummy');
  assert.equal(call?.stdin, '{"cniVersion":"1.1.0"}');
  const old = new ScriptedRunner([
    { exitCode: 1, stdout: '{"code":4,"msg":"unknown CNI_COMMAND: VERSION"}' },
  ]);
  assert.deepEqual(
    (await getVersionInfo(deps(old), { pluginType: 'x', pluginPath: '/x' })).supportedVersions,
    ['0.1.0'],
  );
  assert.deepEqual(parseVersionInfo('{"cniVersion":"0.2.0"}').supportedVersions, ['0.1.0', '0.2.0']);
  assert.throws(() => parseVersionInfo('{"cniVersion":"1.0.0"}'), /missing field supportedVersions/);
  assert.throws(() => parseVersionInfo('{}'), /missing field cniVersion/);
  const bad = new ScriptedRunner([{ stdout: '{}' }]);
  await assert.rejects(
    getVersionInfo(deps(bad), { pluginType: 'x', pluginPath: '/x' }),
    (e: unknown) => e instanceof DelegateError && e.command === 'VERSION',
  );
});

test('property: any failed outcome becomes a DelegateError with a numeric code; any VERSION text parses or throws CniError 6', () => {
  const outcome = fc.record({
    exitCode: fc.option(fc.integer({ min: 1, max: 255 }), { nil: null }),
    signal: fc.option(fc.constantFrom('SIGKILL', 'SIGSEGV'), { nil: null }),
    stdout: fc.oneof(fc.string(), fc.json(), fc.constant('')),
    stderr: fc.oneof(fc.string(), fc.json(), fc.constant('')),
    timedOut: fc.boolean(),
  });
  fc.assert(
    fc.property(outcome, (o) => {
      const e = errorFromOutcome(o, req);
      assert.ok(e instanceof DelegateError);
      assert.ok(Number.isInteger(e.code) && e.code >= 0);
      assert.match(e.message, /^plugin type="bridge" for network "net" failed \(add\): /);
    }),
  );
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.json()), (text) => {
      try {
        const info = parseVersionInfo(text);
        assert.ok(info.supportedVersions.every((v) => typeof v === 'string'));
      } catch (e) {
        assert.ok(e instanceof CniError && e.code === 6);
      }
    }),
  );
});
