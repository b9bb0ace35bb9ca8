/**
 * `multinet gc` on a node with leaks made on purpose: the real daemon (thick mode, autoConfig)
 * attaches two pods through the real shim with bridge + host-local (eth0) and macvlan +
 * host-local (net1); one pod's netns is then deleted without DEL, and host-local holds two
 * addresses no cache names (one reserved "before the last boot", one just now). gc runs as the
 * image runs it (the daemon bundle, with the daemon's own config file) in the node namespace.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir, readFile, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { nodeNamespaceCommand } from '../../src/host/node-namespace-command.ts';
import { readBootTimeMs } from '../../src/host/boot-time.ts';
import { REPO_ROOT } from '../support/control-plane.ts';
import { bridgeNet, FaultScene, NOTHING, podArgs, simpleNet } from '../support/fault-scene.ts';
import { buildDaemonBundle } from './daemon-harness.ts';
import {
  addressesOf,
  allocations,
  inNetns,
  PLUGIN_DIR,
  PLUGIN_ENV,
  type NetnsTopology,
} from '../support/netns.ts';

interface Finding {
  verdict: string;
  containerId: string;
  pod?: string;
  network: string;
  ifName: string;
  left: string[];
  why: string;
}

function runGc(s: FaultScene, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const argv = nodeNamespaceCommand(s.topo.node, join(s.topo.tmpDir, 'host-local'), [
    ...buildDaemonBundle(),
    'gc',
    '--config',
    s.setup.configFile,
    '--runtime-cache-dir',
    join(s.topo.tmpDir, 'runtime-cache'),
    ...args,
  ]);
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd: REPO_ROOT, env: { ...PLUGIN_ENV, HOME: '/root' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** host-local alone, as a crashed or cache-less attachment leaves it: a reservation and nothing else. */
async function reserve(
  topo: NetnsTopology,
  network: string,
  subnet: string,
  containerId: string,
): Promise<string> {
  const conf = JSON.stringify({
    cniVersion: '1.0.0',
    name: network,
    ipam: { type: 'host-local', ranges: [[{ subnet }]], dataDir: topo.dataDir },
  });
  const env = [
    'CNI_COMMAND=ADD',
    `CNI_CONTAINERID=${containerId}`,
    `CNI_NETNS=${topo.nodePath}`,
    'CNI_IFNAME=eth0',
    `CNI_PATH=${PLUGIN_DIR}`,
  ];
  const out = await inNetns(topo.node, [
    'sh',
    '-c',
    `printf '%s' '${conf}' | env ${env.join(' ')} ${PLUGIN_DIR}/host-local`,
  ]);
  const ip = (JSON.parse(out) as { ips: { address: string }[] }).ips[0]!.address.split('/')[0]!;
  return ip;
}

/** Every file of the caches and host-local stores, with content and mtime: what "changes nothing" means. */
async function snapshot(s: FaultScene, networks: string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const dirs = [
    join(s.cacheDir, 'plans'),
    join(s.cacheDir, 'results'),
    ...networks.map((n) => join(s.topo.dataDir, n)),
  ];
  for (const dir of dirs)
    for (const name of (await readdir(dir).catch(() => [] as string[])).sort()) {
      const path = join(dir, name);
      const st = await stat(path);
      out[path] = `${st.mtimeMs} ${st.isFile() ? await readFile(path, 'utf8') : 'dir'}`;
    }
  return out;
}

test(
  'gc --dry-run names each leak and changes nothing; gc releases them and leaves the live pod alone',
  { timeout: 180_000 },
  async (t) => {
    const s = await FaultScene.create(t, (topo) => ({
      primary: bridgeNet(topo, 'gcpod', '10.57.0.0/24', 'mngc57'),
      networks: { 'gcmac.conf': simpleNet(topo, 'gcmac', 'macvlan', '10.57.1.0/24') },
      daemon: { defaultNetworks: ['gcmac'] },
      bridges: ['mngc57'],
    }));
    await s.start();
    const [live, leaky, planless] = [await s.topo.addPod(), await s.topo.addPod(), await s.topo.addPod()];
    for (const [id, pod] of [
      ['gc-live', live],
      ['gc-leak', leaky],
      ['gc-noplan', planless],
    ] as const) {
      const out = await s.call('ADD', id, pod, podArgs(id));
      assert.equal(out.exitCode, 0, out.stdout + out.stderr);
    }
    const liveAddrs = {
      eth0: await addressesOf(live.name, 'eth0'),
      net1: await addressesOf(live.name, 'net1'),
    };
    assert.equal(liveAddrs.eth0.length, 1);
    assert.equal(liveAddrs.net1.length, 1);
    const livePlan = await readFile(join(s.cacheDir, 'plans', 'gc-live'), 'utf8');
    // The leak: the sandbox goes away without a DEL (a runtime crash, a lost StopPodSandbox).
    await s.topo.removePod(leaky);
    // And one whose plan is lost too (a DEL that rebuilt it and failed): only the result cache knows it.
    await rm(join(s.cacheDir, 'plans', 'gc-noplan'));
    await s.topo.removePod(planless);
    // Two reservations no plan or result cache names: one from before the node booted, one new.
    const bootMs = await readBootTimeMs();
    assert.ok(bootMs !== undefined, '/proc/stat has btime');
    const oldIp = await reserve(s.topo, 'gcpod', '10.57.0.0/24', 'gc-stray-old');
    const before = new Date(bootMs - 3_600_000);
    await utimes(join(s.topo.dataDir, 'gcpod', oldIp), before, before);
    const newIp = await reserve(s.topo, 'gcpod', '10.57.0.0/24', 'gc-stray-new');
    const liveIps = { gcpod: liveAddrs.eth0[0]!.split('/')[0]!, gcmac: liveAddrs.net1[0]!.split('/')[0]! };
    assert.equal((await allocations(s.topo.dataDir, 'gcpod')).length, 5);
    assert.equal((await allocations(s.topo.dataDir, 'gcmac')).length, 3);

    const untouched = await snapshot(s, ['gcpod', 'gcmac']);
    const dry = await runGc(s, ['--dry-run']);
    assert.equal(dry.code, 3, `exit 3: leaks found\n${dry.stdout}${dry.stderr}`);
    const lines = dry.stdout.split('\n');
    const leakedLine = (network: string, ifName: string) =>
      lines.find(
        (l) =>
          l.startsWith('LEAKED') &&
          l.includes('container gc-leak') &&
          l.includes(`(${ifName})`) &&
          l.includes(network),
      );
    for (const [network, ifName] of [
      ['gcpod', 'eth0'],
      ['gcmac', 'net1'],
    ] as const) {
      const line = leakedLine(network, ifName);
      assert.ok(line, `a LEAKED line for gc-leak ${network} (${ifName}):\n${dry.stdout}`);
      assert.match(line, /pod default\/gc-leak/);
      assert.match(line, /left: plan, result cache, host-local 10\.57\.[01]\.\d+/);
      assert.ok(line.includes(`why: netns ${leaky.path} is gone`), line);
      const cached = lines.find((l) => l.includes('container gc-noplan') && l.includes(`(${ifName})`)) ?? '';
      assert.ok(cached.startsWith('LEAKED'), `gc-noplan ${ifName}:\n${dry.stdout}`);
      assert.match(cached, /left: result cache, host-local 10\.57\.[01]\.\d+/);
      assert.ok(cached.includes(`why: netns ${planless.path} is gone`), cached);
    }
    const old = lines.find((l) => l.includes('container gc-stray-old')) ?? '';
    assert.ok(old.startsWith('LEAKED'), `${old}\n${dry.stdout}`);
    assert.ok(old.includes(`host-local ${oldIp} (${s.topo.dataDir}/gcpod)`), old);
    assert.match(
      old,
      /no plan and no result cache names this container, and the address was reserved at .* before the node booted/,
    );
    const fresh = lines.find((l) => l.includes('container gc-stray-new'));
    assert.ok(
      fresh?.startsWith('UNKNOWN'),
      `a reservation made since the boot is never called leaked:\n${dry.stdout}`,
    );
    assert.ok(!dry.stdout.includes('gc-live'), `the live pod is no finding:\n${dry.stdout}`);
    assert.match(dry.stdout, /5 leaked, 1 unknown, 1 live/);
    assert.deepEqual(await snapshot(s, ['gcpod', 'gcmac']), untouched, '--dry-run changed nothing');

    const json = await runGc(s, ['--dry-run', '-o', 'json']);
    assert.equal(json.code, 3, json.stderr);
    const report = JSON.parse(json.stdout) as { findings: Finding[]; live: string[] };
    assert.deepEqual(report.live, ['gc-live']);
    assert.deepEqual(report.findings.map((f) => `${f.verdict} ${f.containerId} ${f.ifName}`).sort(), [
      'leaked gc-leak eth0',
      'leaked gc-leak net1',
      'leaked gc-noplan eth0',
      'leaked gc-noplan net1',
      'leaked gc-stray-old eth0',
      'unknown gc-stray-new eth0',
    ]);

    const gc = await runGc(s, []);
    assert.equal(gc.code, 0, `${gc.stdout}${gc.stderr}`);
    assert.match(gc.stdout, /nothing is left leaked/);
    assert.deepEqual(await readdir(join(s.cacheDir, 'plans')), ['gc-live']);
    assert.deepEqual((await readdir(join(s.cacheDir, 'results'))).sort(), [
      'gcmac-gc-live-net1',
      'gcpod-gc-live-eth0',
    ]);
    assert.deepEqual(await allocations(s.topo.dataDir, 'gcpod'), [liveIps.gcpod, newIp].sort());
    assert.deepEqual(await allocations(s.topo.dataDir, 'gcmac'), [liveIps.gcmac]);
    // The live pod: its interfaces, addresses and plan exactly as before.
    assert.deepEqual(await addressesOf(live.name, 'eth0'), liveAddrs.eth0);
    assert.deepEqual(await addressesOf(live.name, 'net1'), liveAddrs.net1);
    assert.equal(await readFile(join(s.cacheDir, 'plans', 'gc-live'), 'utf8'), livePlan);
    assert.equal(s.daemon?.exitCode, undefined, 'the daemon kept running');

    const again = await runGc(s, ['--dry-run']);
    assert.equal(again.code, 0, `clean now (an unknown does not count):\n${again.stdout}`);
    assert.match(again.stdout, /^UNKNOWN {2}container gc-stray-new/m);
    assert.match(again.stdout, /nothing leaked: 1 live, 1 unknown/);

    // What the test made goes: the live pod's DEL, and the new reservation through host-local.
    assert.equal((await s.call('DEL', 'gc-live', live, podArgs('gc-live'))).exitCode, 0);
    const conf = JSON.stringify({
      cniVersion: '1.0.0',
      name: 'gcpod',
      ipam: { type: 'host-local', ranges: [[{ subnet: '10.57.0.0/24' }]], dataDir: s.topo.dataDir },
    });
    await inNetns(s.topo.node, [
      'sh',
      '-c',
      `printf '%s' '${conf}' | env CNI_COMMAND=DEL CNI_CONTAINERID=gc-stray-new CNI_NETNS= CNI_IFNAME=eth0 CNI_PATH=${PLUGIN_DIR} ${PLUGIN_DIR}/host-local`,
    ]);
    assert.deepEqual(await s.leftovers([live]), NOTHING);
  },
);
