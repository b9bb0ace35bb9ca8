import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CniError } from './cni-error.ts';
import { DelegateError, NetworkListError } from './delegate-error.ts';
import { MemoryResultCache } from './memory-result-cache.ts';
import { parseNetworkConfig } from './network-config.ts';
import { NetworkListRunner, type RuntimeConf } from './network-list-runner.ts';
import {
  PluginNotFoundError,
  type PluginExecOutcome,
  type PluginExecRequest,
  type PluginLocator,
  type PluginRunner,
} from './plugin-runner.ts';

interface Call {
  type: string;
  command: string;
  config: Record<string, unknown>;
  env: Record<string, string>;
}

/** In-memory stand-in for plugin binaries: each type answers like a well-behaved plugin unless told to fail. */
class FakePlugins implements PluginRunner, PluginLocator {
  readonly calls: Call[] = [];
  readonly failing = new Map<string, string>(); // "type/COMMAND" → error msg
  supported = ['0.3.1', '0.4.0', '1.0.0'];
  installed = new Set(['bridge', 'tuning', 'portmap']);

  async find(type: string, paths: string[]): Promise<string> {
    if (!this.installed.has(type)) throw new PluginNotFoundError(type, paths);
    return `/fake/${type}`;
  }

  async exec(req: PluginExecRequest): Promise<PluginExecOutcome> {
    const type = req.path.replace('/fake/', '');
    const command = req.env.CNI_COMMAND ?? '';
    const config = JSON.parse(req.stdin) as Record<string, unknown>;
    this.calls.push({ type, command, config, env: req.env });
    const ok = (stdout = '') => ({ exitCode: 0, signal: null, stdout, stderr: '', timedOut: false });
    if (command === 'VERSION')
      return ok(JSON.stringify({ cniVersion: '1.0.0', supportedVersions: this.supported }));
    const failure = this.failing.get(`${type}/${command}`);
    if (failure) return { ...ok(JSON.stringify({ code: 100, msg: failure })), exitCode: 1 };
    if (command !== 'ADD') return ok();
    const prev = (config.prevResult as Record<string, unknown> | undefined) ?? {
      interfaces: [{ name: req.env.CNI_IFNAME, sandbox: req.env.CNI_NETNS }],
      ips: [{ address: '10.1.0.5/24', interface: 0 }],
    };
    return ok(JSON.stringify({ ...prev, cniVersion: config.cniVersion, dns: { domain: type } }));
  }

  commands(): string[] {
    return this.calls.filter((c) => c.command !== 'VERSION').map((c) => `${c.type}/${c.command}`);
  }
}

const listOf = (extra: Record<string, unknown> = {}) =>
  parseNetworkConfig(
    JSON.stringify({
      cniVersion: '1.0.0',
      name: 'net',
      plugins: [
        { type: 'bridge' },
        { type: 'tuning' },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
      ...extra,
    }),
  );
const rt: RuntimeConf = {
  containerId: 'c1',
  netns: '/run/netns/p',
  ifName: 'eth0',
  args: [['K8S_POD_NAME', 'web']],
  capabilityArgs: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }], mac: 'x' },
  cniPath: ['/opt/cni/bin'],
};
const setup = () => {
  const plugins = new FakePlugins();
  const cache = new MemoryResultCache();
  const runner = new NetworkListRunner({
    runner: plugins,
    locator: plugins,
    cache,
    timeoutMs: 1000,
    baseEnv: { PATH: '/bin' },
  });
  return { plugins, cache, runner };
};

test('ADD chains prevResult in order, injects capabilities only where declared, caches like libcni', async () => {
  const { plugins, cache, runner } = setup();
  const list = listOf();
  const result = await runner.add(list, rt);
  assert.deepEqual(plugins.commands(), ['bridge/ADD', 'tuning/ADD', 'portmap/ADD']);
  const [bridge, tuning, portmap] = plugins.calls;
  assert.equal('prevResult' in (bridge?.config ?? {}), false, 'the first plugin gets no prevResult');
  assert.deepEqual((tuning?.config.prevResult as { dns: unknown }).dns, { domain: 'bridge' });
  assert.deepEqual((portmap?.config.prevResult as { dns: unknown }).dns, { domain: 'tuning' });
  assert.deepEqual(portmap?.config.runtimeConfig, { portMappings: rt.capabilityArgs.portMappings });
  assert.equal('runtimeConfig' in (tuning?.config ?? {}), false);
  assert.equal(bridge?.env.CNI_ARGS, 'K8S_POD_NAME=web');
  assert.equal(bridge?.env.CNI_PATH, '/opt/cni/bin');
  assert.equal(bridge?.env.PATH, '/bin');
  assert.deepEqual(result.cniVersion, '1.0.0');
  const record = await cache.get({ networkName: 'net', containerId: 'c1', ifName: 'eth0' });
  assert.equal(Buffer.from(record?.config ?? '', 'base64').toString(), list.bytes);
  assert.deepEqual(record?.cniArgs, rt.args);
  assert.deepEqual(record?.result, result);
  assert.deepEqual([...cache.files.keys()], ['net-c1-eth0']);
});

test('ADD stops at the first failure and caches nothing; bad attachment ids are refused', async () => {
  const { plugins, cache, runner } = setup();
  plugins.failing.set('tuning/ADD', 'sysctl failed');
  await assert.rejects(
    runner.add(listOf(), rt),
    (e: unknown) => e instanceof DelegateError && e.code === 100 && e.pluginType === 'tuning',
  );
  assert.deepEqual(plugins.commands(), ['bridge/ADD', 'tuning/ADD']);
  assert.equal(cache.files.size, 0);
  await assert.rejects(
    runner.add(listOf(), { ...rt, containerId: '' }),
    (e: unknown) => e instanceof CniError && e.code === 3,
  );
  await assert.rejects(
    runner.add(listOf(), { ...rt, containerId: 'a/b' }),
    (e: unknown) => e instanceof CniError && e.code === 4,
  );
  await assert.rejects(
    runner.add(listOf(), { ...rt, ifName: 'x'.repeat(16) }),
    (e: unknown) => e instanceof CniError && e.code === 4,
  );
});

test('a missing binary names the type and the search path', async () => {
  const { plugins, runner } = setup();
  plugins.installed.delete('tuning');
  await assert.rejects(runner.add(listOf(), rt), (e: unknown) => {
    assert.ok(e instanceof DelegateError);
    assert.equal(e.reason, 'not-found');
    assert.match(e.message, /failed to find plugin "tuning" in path \["\/opt\/cni\/bin"\]/);
    return true;
  });
});

test('DEL runs in reverse with the cached result converted to the list version, then drops the cache', async () => {
  const { plugins, cache, runner } = setup();
  await runner.add(listOf({ cniVersion: '0.4.0' }), rt);
  plugins.calls.length = 0;
  await runner.del(listOf({ cniVersion: '1.0.0' }), rt);
  assert.deepEqual(plugins.commands(), ['portmap/DEL', 'tuning/DEL', 'bridge/DEL']);
  const prev = plugins.calls[0]?.config.prevResult as { cniVersion: string; ips: object[] };
  assert.equal(prev.cniVersion, '1.0.0');
  assert.deepEqual(
    prev.ips,
    [{ address: '10.1.0.5/24', interface: 0 }],
    'ips[].version removed by conversion',
  );
  assert.equal(cache.files.size, 0);
  await runner.del(listOf(), rt);
  assert.equal(
    'prevResult' in (plugins.calls.at(-1)?.config ?? {}),
    false,
    'a second DEL has no prevResult and succeeds',
  );
});

test('DEL continues past failures, reports each, and keeps the cache for a retry', async () => {
  const { plugins, cache, runner } = setup();
  await runner.add(listOf(), rt);
  plugins.calls.length = 0;
  plugins.failing.set('portmap/DEL', 'iptables busy');
  plugins.installed.delete('bridge');
  await assert.rejects(runner.del(listOf(), rt), (e: unknown) => {
    assert.ok(e instanceof NetworkListError);
    assert.equal(e.errors.length, 2);
    assert.equal(e.code, 100);
    assert.match(e.message, /portmap.*iptables busy.*bridge.*failed to find plugin/);
    return true;
  });
  assert.deepEqual(plugins.commands(), ['portmap/DEL', 'tuning/DEL']);
  assert.equal(cache.files.size, 1);
});

test('DEL tolerates a corrupt cache (deleted, no prevResult) and sends none below 0.4.0', async () => {
  const { plugins, cache, runner } = setup();
  cache.files.set('net-c1-eth0', '{not json');
  await runner.del(listOf(), rt);
  assert.ok(plugins.calls.every((c) => !('prevResult' in c.config)));
  assert.equal(cache.files.size, 0);
  await runner.add(listOf({ cniVersion: '0.3.1' }), rt);
  plugins.calls.length = 0;
  await runner.del(listOf({ cniVersion: '0.3.1' }), rt);
  assert.ok(plugins.calls.every((c) => !('prevResult' in c.config)));
});

test('CHECK: needs 0.4.0, honours disableCheck, runs in order with the cached result, stops at first failure', async () => {
  const { plugins, runner } = setup();
  await assert.rejects(
    runner.check(listOf({ cniVersion: '0.3.1' }), rt),
    (e: unknown) =>
      e instanceof CniError && e.code === 1 && /does not support the CHECK command/.test(e.message),
  );
  await runner.check(listOf({ disableCheck: true }), rt);
  assert.deepEqual(plugins.commands(), []);
  await runner.add(listOf(), rt);
  plugins.calls.length = 0;
  await runner.check(listOf(), rt);
  assert.deepEqual(plugins.commands(), ['bridge/CHECK', 'tuning/CHECK', 'portmap/CHECK']);
  assert.ok(
    plugins.calls.every((c) => (c.config.prevResult as { cniVersion: string }).cniVersion === '1.0.0'),
  );
  plugins.calls.length = 0;
  plugins.failing.set('bridge/CHECK', 'veth gone');
  await assert.rejects(runner.check(listOf(), rt), /veth gone/);
  assert.deepEqual(plugins.commands(), ['bridge/CHECK']);
});

test('GC: DEL for cached attachments of this network that are not valid, then GC to each plugin (1.1.0)', async () => {
  const { plugins, cache, runner } = setup();
  plugins.supported = ['1.0.0', '1.1.0'];
  const list = listOf({ cniVersion: '1.1.0' });
  await runner.add(list, rt);
  await runner.add(list, { ...rt, containerId: 'c2' });
  await runner.add(listOf({ name: 'other', cniVersion: '1.1.0' }), { ...rt, containerId: 'c3' });
  plugins.calls.length = 0;
  await runner.gc(list, [{ containerId: 'c2', ifName: 'eth0' }], ['/opt/cni/bin']);
  assert.deepEqual(plugins.commands(), [
    'portmap/DEL',
    'tuning/DEL',
    'bridge/DEL',
    'bridge/GC',
    'tuning/GC',
    'portmap/GC',
  ]);
  assert.equal(plugins.calls[0]?.env.CNI_CONTAINERID, 'c1');
  assert.deepEqual(plugins.calls[0]?.env.CNI_ARGS, 'K8S_POD_NAME=web', 'stale DEL uses the cached args');
  const gc = plugins.calls.at(-1);
  assert.deepEqual(gc?.config['cni.dev/valid-attachments'], [{ containerID: 'c2', ifname: 'eth0' }]);
  assert.equal(gc?.env.CNI_CONTAINERID, '');
  assert.deepEqual([...cache.files.keys()].sort(), ['net-c2-eth0', 'other-c3-eth0']);
  plugins.calls.length = 0;
  plugins.failing.set('bridge/GC', 'x').set('portmap/GC', 'y');
  await assert.rejects(
    runner.gc(list, [], ['/p']),
    (e: unknown) => e instanceof NetworkListError && e.errors.length === 2,
  );
  assert.deepEqual(
    plugins.commands().slice(0, 3),
    ['portmap/DEL', 'tuning/DEL', 'bridge/DEL'],
    'c2 is stale now',
  );
  assert.deepEqual([...cache.files.keys()], ['other-c3-eth0']);
  plugins.calls.length = 0;
  await runner.gc(listOf({ cniVersion: '1.1.0', disableGC: true }), [], ['/p']);
  assert.deepEqual(plugins.commands(), []);
});

test('GC below 1.1.0 only removes stale attachments; STATUS below 1.1.0 is a no-op', async () => {
  const { plugins, runner } = setup();
  await runner.add(listOf(), rt);
  plugins.calls.length = 0;
  await runner.gc(listOf(), [], ['/p']);
  assert.deepEqual(plugins.commands(), ['portmap/DEL', 'tuning/DEL', 'bridge/DEL']);
  plugins.calls.length = 0;
  await runner.status(listOf(), ['/p']);
  assert.deepEqual(plugins.commands(), []);
  plugins.supported = ['1.1.0'];
  plugins.failing.set('tuning/STATUS', 'not ready');
  await assert.rejects(
    runner.status(listOf({ cniVersion: '1.1.0' }), ['/p']),
    (e: unknown) => e instanceof DelegateError && e.pluginType === 'tuning',
  );
  assert.deepEqual(plugins.commands(), ['bridge/STATUS', 'tuning/STATUS']);
});

test('version negotiation: highest version every plugin supports, VERSION asked once per binary', async () => {
  const { plugins, runner } = setup();
  const list = listOf({ cniVersion: '1.0.0', cniVersions: ['0.4.0', '1.0.0', '1.1.0'] });
  assert.equal(await runner.resolveVersion(list, ['/p']), '1.0.0');
  await runner.add(list, rt);
  assert.ok(plugins.calls.filter((c) => c.command === 'ADD').every((c) => c.config.cniVersion === '1.0.0'));
  assert.equal(plugins.calls.filter((c) => c.command === 'VERSION').length, 3);
  plugins.supported = ['0.2.0'];
  const fresh = new NetworkListRunner({
    runner: plugins,
    locator: plugins,
    cache: new MemoryResultCache(),
    timeoutMs: 1000,
  });
  await assert.rejects(
    fresh.resolveVersion(list, ['/p']),
    (e: unknown) => e instanceof CniError && e.code === 1 && /bridge supports \["0.2.0"\]/.test(e.message),
  );
  const off = new NetworkListRunner({
    runner: plugins,
    locator: plugins,
    cache: new MemoryResultCache(),
    timeoutMs: 1000,
    negotiateVersions: false,
  });
  assert.equal(await off.resolveVersion(list, ['/p']), '1.1.0');
  plugins.calls.length = 0;
  assert.equal(await fresh.resolveVersion(listOf(), ['/p']), '1.0.0');
  assert.equal(plugins.calls.length, 0, 'a single offered version needs no VERSION calls');
});
