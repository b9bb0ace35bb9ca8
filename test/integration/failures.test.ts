/**
 * Failure paths. Real plugins for everything they can do (bad config, exhausted range, wrong
 * version, CHECK below 0.4.0, a missing binary); FAKE plugins (shell scripts named fake-*) only
 * for what no reference plugin does: hang, crash, print garbage.
 */
import assert from 'node:assert/strict';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { DelegateError, NetworkListError } from '../../src/cni/delegate-error.ts';
import { runPlugin } from '../../src/cni/invoke.ts';
import { buildPluginEnv } from '../../src/cni/cni-env.ts';
import { parseNetworkConfig } from '../../src/cni/network-config.ts';
import { allocations, linkIn, NetnsTopology, PLUGIN_DIR, PLUGIN_ENV } from '../support/netns.ts';

const isDelegate = (check: (e: DelegateError) => boolean) => (e: unknown) =>
  e instanceof DelegateError && check(e);

function bridgePlugin(topo: NetnsTopology, ipam: Record<string, unknown> = {}) {
  return {
    type: 'bridge',
    bridge: 'mnbr3',
    ipam: { type: 'host-local', dataDir: topo.dataDir, subnet: '10.82.0.0/24', ...ipam },
  };
}

test('a plugin rejecting its config: its code and message come through', async (t) => {
  const topo = await NetnsTopology.create(t);
  const pod = await topo.addPod();
  const runner = topo.listRunner();
  const bad = parseNetworkConfig(
    JSON.stringify({
      cniVersion: '1.0.0',
      name: 'bad',
      plugins: [bridgePlugin(topo, { subnet: 'not-a-cidr' })],
    }),
  );
  await assert.rejects(
    runner.add(bad, topo.runtimeConf(pod)),
    isDelegate(
      (e) =>
        e.code === 999 &&
        e.reason === 'plugin-error' &&
        e.pluginType === 'bridge' &&
        /invalid CIDR address: not-a-cidr/.test(e.message),
    ),
  );
  // bridge 1.1.1 made the veth before IPAM failed and leaves it: the runtime's DEL must follow.
  // That DEL removes the link, then fails in IPAM on the same bad subnet, and says so.
  assert.ok(await linkIn(pod.name, 'eth0'));
  await assert.rejects(
    runner.del(bad, topo.runtimeConf(pod)),
    (e: unknown) => e instanceof NetworkListError && /invalid CIDR/.test(e.message),
  );
  assert.equal(await linkIn(pod.name, 'eth0'), undefined);
  const v110 = parseNetworkConfig(
    JSON.stringify({ cniVersion: '1.1.0', name: 'new', plugins: [bridgePlugin(topo)] }),
  );
  await assert.rejects(
    runner.add(v110, topo.runtimeConf(pod)),
    isDelegate(
      (e) =>
        e.code === 1 && e.msg === 'incompatible CNI versions' && /config is "1.1.0"/.test(e.details ?? ''),
    ),
  );
  assert.equal(await linkIn(pod.name, 'eth0'), undefined, 'a version mismatch is refused before any change');
});

test('an exhausted range: host-local error through bridge; DEL of the failed ADD still succeeds', async (t) => {
  const topo = await NetnsTopology.create(t);
  const [a, b] = [await topo.addPod(), await topo.addPod()];
  const runner = topo.listRunner();
  const ipam = {
    ranges: [[{ subnet: '10.82.0.0/24', rangeStart: '10.82.0.9', rangeEnd: '10.82.0.9' }]],
    subnet: undefined,
  };
  const list = parseNetworkConfig(
    JSON.stringify({ cniVersion: '1.0.0', name: 'tiny', plugins: [bridgePlugin(topo, ipam)] }),
  );
  await runner.add(list, topo.runtimeConf(a));
  await assert.rejects(
    runner.add(list, topo.runtimeConf(b)),
    isDelegate((e) => /no IP addresses available/.test(e.message)),
  );
  await runner.del(list, topo.runtimeConf(b)); // runtimes DEL after a failed ADD (SPEC §3)
  assert.deepEqual(await allocations(topo.dataDir, 'tiny'), ['10.82.0.9'], 'the other pod keeps its address');
  await runner.del(list, topo.runtimeConf(a));
  assert.deepEqual(await allocations(topo.dataDir, 'tiny'), []);
});

test('DEL continues past a failing plugin so earlier plugins still clean up', async (t) => {
  const topo = await NetnsTopology.create(t);
  const pod = await topo.addPod();
  const runner = topo.listRunner();
  // tuning's config is broken ("sysctl" must be a map): it fails ADD and DEL alike.
  const list = parseNetworkConfig(
    JSON.stringify({
      cniVersion: '1.0.0',
      name: 'half',
      plugins: [bridgePlugin(topo), { type: 'tuning', sysctl: 5 }],
    }),
  );
  const rt = topo.runtimeConf(pod);
  await assert.rejects(
    runner.add(list, rt),
    isDelegate((e) => e.pluginType === 'tuning' && /failed to load netconf/.test(e.message)),
  );
  assert.equal((await allocations(topo.dataDir, 'half')).length, 1, 'bridge had succeeded');
  await assert.rejects(runner.del(list, rt), (e: unknown) => {
    assert.ok(e instanceof NetworkListError);
    assert.deepEqual(
      e.errors.map((x) => (x as DelegateError).pluginType),
      ['tuning'],
    );
    assert.equal(e.code, 999);
    return true;
  });
  assert.deepEqual(await allocations(topo.dataDir, 'half'), [], 'bridge DEL ran after tuning failed');
  assert.equal(await linkIn(pod.name, 'eth0'), undefined);
});

test('a missing plugin binary names the type and CNI_PATH', async (t) => {
  const topo = await NetnsTopology.create(t);
  const pod = await topo.addPod();
  const list = parseNetworkConfig(
    JSON.stringify({ cniVersion: '1.0.0', name: 'ghost', type: 'no-such-plugin' }),
  );
  await assert.rejects(
    topo.listRunner().add(list, topo.runtimeConf(pod)),
    isDelegate(
      (e) =>
        e.reason === 'not-found' &&
        e.message.includes(`failed to find plugin "no-such-plugin" in path ["${PLUGIN_DIR}"]`),
    ),
  );
});

test('the plugins themselves refuse CHECK below 0.4.0 (code 1)', async (t) => {
  const topo = await NetnsTopology.create(t);
  const pod = await topo.addPod();
  const env = buildPluginEnv(
    { command: 'CHECK', containerId: 'c', netns: pod.path, ifName: 'eth0', path: topo.cniPath },
    PLUGIN_ENV,
  );
  const stdin = JSON.stringify({ cniVersion: '0.3.1', name: 'n', ...bridgePlugin(topo) });
  const req = {
    pluginType: 'bridge',
    pluginPath: `${PLUGIN_DIR}/bridge`,
    command: 'CHECK' as const,
    env,
    stdin,
  };
  await assert.rejects(
    runPlugin({ runner: topo.runner(), timeoutMs: 5000 }, req),
    isDelegate((e) => e.code === 1 && e.msg === 'config version does not allow CHECK'),
  );
});

test('FAKE plugins: a hang is killed at the timeout, a crash and garbage output are reported', async (t) => {
  const topo = await NetnsTopology.create(t);
  const pod = await topo.addPod();
  const fakeDir = join(topo.tmpDir, 'fake-bin');
  await mkdir(fakeDir);
  const fakes = {
    'fake-hang': 'sleep 30',
    'fake-crash': 'kill -SEGV $$',
    'fake-garbage': 'echo "hello, not JSON"',
  };
  for (const [name, body] of Object.entries(fakes)) {
    await writeFile(join(fakeDir, name), `#!/bin/sh\n# FAKE plugin for failure tests\n${body}\n`);
    await chmod(join(fakeDir, name), 0o755);
  }
  const runner = topo.listRunner({ timeoutMs: 300 });
  const rt = topo.runtimeConf(pod, 'eth0', { cniPath: [fakeDir] });
  const list = (type: string) =>
    parseNetworkConfig(JSON.stringify({ cniVersion: '1.0.0', name: type, type }));

  const started = Date.now();
  await assert.rejects(
    runner.add(list('fake-hang'), rt),
    isDelegate((e) => e.reason === 'timeout' && e.retryable),
  );
  assert.ok(Date.now() - started < 3000);
  await assert.rejects(
    runner.add(list('fake-crash'), rt),
    isDelegate((e) => e.reason === 'crashed' && /SIGSEGV/.test(e.message)),
  );
  await assert.rejects(
    runner.add(list('fake-garbage'), rt),
    isDelegate((e) => e.reason === 'bad-output' && e.code === 6 && /hello, not JSON/.test(e.message)),
  );
});
