/**
 * A delegate's CNI error code as the runtime receives it: the thin plugin run as containerd runs
 * it, the reference plugins (containernetworking-plugins 1.1.1) as delegates in the test's own
 * namespaces. docs/troubleshooting.md promises DELEGATE_FAILED carries the plugin's code.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bridgeNet, FaultScene, NOTHING, simpleNet } from '../support/fault-scene.ts';
import { thinCall, thinConfig } from '../support/thin-call.ts';

function scene(t: Parameters<typeof FaultScene.create>[0]) {
  return FaultScene.create(t, (topo) => ({
    primary: bridgeNet(topo, 'podnet', '10.93.0.0/24', 'mncode0'),
    networks: {
      // macvlan 1.1.1 supports CNI up to 1.0.0: skel refuses a 1.1.0 config with code 1.
      'newer.conf': {
        ...simpleNet(topo, 'newer', 'macvlan', '10.93.1.0/24', { master: topo.master }),
        cniVersion: '1.1.0',
      },
      // A master that does not exist: the plugin's "Link not found" (code 999, its own).
      'nomaster.conf': simpleNet(topo, 'nomaster', 'macvlan', '10.93.2.0/24', { master: 'mn-nomaster0' }),
    },
    bridges: ['mncode0'],
  }));
}

test("a real plugin's error code reaches the runtime, and eth0 is undone", async (t) => {
  const s = await scene(t);
  const pod = await s.topo.addPod();
  const add = await thinCall(s, 'ADD', 'code1', pod, {
    config: thinConfig(s, { defaultNetworks: ['newer'] }),
  });
  assert.equal(add.exitCode, 1, add.stdout + add.stderr);
  assert.equal(add.json?.['code'], 1, add.stdout);
  assert.match(String(add.json?.['msg']), /^multinet: DELEGATE_FAILED$/);
  assert.match(
    String(add.json?.['details']),
    /network newer.*plugin type="macvlan".*incompatible CNI versions/,
  );
  assert.deepEqual(await s.podLinks(pod), [], 'eth0 (bridge) was undone');

  const other = await s.topo.addPod();
  const lost = await thinCall(s, 'ADD', 'code999', other, {
    config: thinConfig(s, { defaultNetworks: ['nomaster'] }),
  });
  assert.equal(lost.exitCode, 1, lost.stdout + lost.stderr);
  assert.equal(lost.json?.['code'], 999, lost.stdout);
  assert.match(String(lost.json?.['details']), /plugin type="macvlan".*Link not found/);

  for (const [id, p, net] of [
    ['code1', pod, 'newer'],
    ['code999', other, 'nomaster'],
  ] as const) {
    const del = await thinCall(s, 'DEL', id, p, { config: thinConfig(s, { defaultNetworks: [net] }) });
    assert.equal(del.exitCode, 0, del.stdout + del.stderr);
  }
  assert.deepEqual(await s.leftovers([pod, other]), NOTHING);
});
