/**
 * A macvlan (or ipvlan) plugin killed between creating its link and renaming it (the daemon
 * SIGKILLed mid-ADD: the soak storm found three in 10,049 cycles) leaves a link named
 * `veth<8 hex>` in the pod, which the plugin's own DEL cannot find: it looks for the final name.
 * multinet's DEL removes it, and only it. Real macvlan links in real namespaces, the reference
 * plugins for the DELs, the engine's file plan store as ADD leaves it before the first delegate.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseMultinetConfig } from '../../src/config/multinet-config.ts';
import type { EngineDeps, PodNetworkRequest } from '../../src/engine/engine-deps.ts';
import { runPodNetworkRequest } from '../../src/engine/engine.ts';
import { FilePlanStore } from '../../src/host/file-plan-store.ts';
import { IprouteLinkRemover } from '../../src/host/iproute-link-remover.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { emptyConfSource } from '../support/fake-engine-deps.ts';
import { ip, linksIn, NetnsTopology, type PodNs } from '../support/netns.ts';

function macvlan(topo: NetnsTopology, name: string) {
  return {
    cniVersion: '1.0.0',
    name,
    type: 'macvlan',
    master: topo.master,
    mode: 'bridge',
    ipam: { type: 'host-local', dataDir: topo.dataDir, subnet: '10.83.0.0/24' },
  };
}

/** What a killed macvlan ADD leaves: its link, under the temporary name, already in the pod. */
async function leaveTempLink(topo: NetnsTopology, pod: PodNs, name: string, kind = 'macvlan') {
  await ip('-n', topo.node, 'link', 'add', 'link', topo.master, name, 'type', kind);
  await ip('-n', topo.node, 'link', 'set', name, 'netns', pod.path);
}

function engineFor(topo: NetnsTopology, sweeps: string[][]) {
  const links = new IprouteLinkRemover();
  const deps: EngineDeps = {
    config: parseMultinetConfig({ clusterNetworkConfig: macvlan(topo, 'lan'), cacheDir: topo.cacheDir })
      .engine,
    cluster: undefined,
    confs: emptyConfSource(),
    routes: { setDefaultRoute: async () => assert.fail('no default-route in these plans') },
    lists: topo.listRunner(),
    plans: new FilePlanStore(topo.cacheDir),
    links: {
      removeLink: (netns, ifName, signal) => links.removeLink(netns, ifName, signal),
      removeTempLinks: async (netns, kinds, signal) => {
        sweeps.push([...kinds]);
        return links.removeTempLinks(netns, kinds, signal);
      },
    },
    log: silentLogger,
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    now: () => Date.now(),
  };
  return deps;
}

function request(command: 'ADD' | 'DEL', topo: NetnsTopology, pod: PodNs): PodNetworkRequest {
  const rt = topo.runtimeConf(pod);
  return {
    command,
    containerId: rt.containerId,
    netns: pod.path,
    ifName: 'eth0',
    cniArgs: rt.args,
    cniPath: topo.cniPath,
    cniVersion: '1.0.0',
    runtimeConfig: {},
  };
}

test('DEL after a macvlan ADD cut short removes the temporary-named link, nothing else', async (t) => {
  const topo = await NetnsTopology.create(t);
  const pod = await topo.addPod();
  const sweeps: string[][] = [];
  const deps = engineFor(topo, sweeps);
  const req = request('DEL', topo, pod);
  // The plan as ADD writes it before running the first delegate.
  await deps.plans.put({
    pod: { namespace: 'default', name: pod.name, uid: '' },
    containerId: req.containerId,
    netns: pod.path,
    cniArgs: req.cniArgs,
    attachments: [
      {
        network: 'lan',
        ifName: 'eth0',
        isDefault: true,
        configText: JSON.stringify(macvlan(topo, 'lan')),
        capabilityArgs: {},
      },
    ],
  });
  await leaveTempLink(topo, pod, 'veth1a2b3c4d');
  // Not the plugin's: a veth under such a name, and a macvlan under another name.
  await ip('-n', pod.name, 'link', 'add', 'veth0badc0de', 'type', 'veth', 'peer', 'name', 'peer0');
  await leaveTempLink(topo, pod, 'keep0');

  await runPodNetworkRequest(deps, req);
  const names = (await linksIn(pod.name)).map((l) => l.ifname).sort();
  assert.deepEqual(names, ['keep0', 'lo', 'peer0', 'veth0badc0de']);
  assert.deepEqual(sweeps, [['macvlan']]);
  assert.deepEqual(await deps.plans.list(), [], 'the plan is gone: DEL completed');
});

test('DEL after a completed macvlan ADD does not look for temporary names', async (t) => {
  const topo = await NetnsTopology.create(t);
  const pod = await topo.addPod();
  const sweeps: string[][] = [];
  const deps = engineFor(topo, sweeps);
  await runPodNetworkRequest(deps, request('ADD', topo, pod));
  assert.equal((await linksIn(pod.name)).find((l) => l.ifname === 'eth0')?.linkinfo?.info_kind, 'macvlan');
  await runPodNetworkRequest(deps, request('DEL', topo, pod));
  assert.deepEqual(
    (await linksIn(pod.name)).map((l) => l.ifname),
    ['lo'],
  );
  assert.deepEqual(sweeps, [], 'a cached result says the ADD finished: no extra ip call on DEL');
});
