/**
 * docs/troubleshooting.md promises a Warning event `AddNetworkFailed` on the pod for every
 * failed ADD that names it, also for failures found before anything is attached (an unknown or
 * forbidden network, a malformed annotation). Real kube-apiserver, real plugins; thin plugin and
 * daemon + shim (which sends events in the background, after answering the runtime). The pod's
 * NetworksReady condition turns False (NetworkMissing) with the same code.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  bridgeConf,
  daemonDirs,
  scrape,
  shimCall,
  startDaemon,
  waitFor,
} from '../integration/daemon-harness.ts';
import { forwardApiIntoNetns } from '../support/api-forwarder.ts';
import { runCni, type CniOutcome } from '../support/cni-runtime.ts';
import { startControlPlane, type ControlPlane } from '../support/control-plane.ts';
import type { KubeObject } from '../support/kube-client.ts';
import { linksIn, NetnsTopology } from '../support/netns.ts';

const NODE = 'node-add-failed';

/** Pods whose ADD fails before planning ends, and the code each must carry. */
const CASES: { name: string; networks: string; code: string }[] = [
  { name: 'late-nad', networks: 'not-yet', code: 'NETWORK_NOT_FOUND' },
  {
    name: 'bad-mac',
    networks: '[{"name":"mv","mac":"zz:00:00:00:00:01"}]',
    code: 'INVALID_NETWORKS_ANNOTATION',
  },
  { name: 'other-ns', networks: 'elsewhere/mv', code: 'NETWORK_FORBIDDEN' },
];

async function scene(cp: ControlPlane, namespace: string) {
  await cp.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  const uids = new Map<string, string>();
  for (const c of CASES) {
    const created = await cp.client.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { namespace, name: c.name, annotations: { 'k8s.v1.cni.cncf.io/networks': c.networks } },
      spec: { nodeName: NODE, containers: [{ name: 'c', image: 'example.invalid/none' }] },
    });
    uids.set(c.name, created.metadata!.uid!);
  }
  return uids;
}

async function warnings(cp: ControlPlane, namespace: string, pod: string, uid: string) {
  const list = await cp.client.list({ apiVersion: 'v1', kind: 'Event', namespace });
  return (list.items as (KubeObject & { reason?: string; type?: string; message?: string })[]).filter(
    (e) =>
      e.reason === 'AddNetworkFailed' &&
      e.type === 'Warning' &&
      (e as { involvedObject?: { name?: string; uid?: string } }).involvedObject?.name === pod &&
      (e as { involvedObject?: { uid?: string } }).involvedObject?.uid === uid,
  );
}

async function expectEvents(
  cp: ControlPlane,
  namespace: string,
  uids: Map<string, string>,
  add: (name: string) => Promise<CniOutcome>,
) {
  for (const c of CASES) {
    const out = await add(c.name);
    assert.equal(out.exitCode, 1, `${c.name}: ${out.stdout}`);
    assert.match(String(out.json?.['msg']), new RegExp(c.code), `${c.name}: ${out.stdout}`);
    let found: Awaited<ReturnType<typeof warnings>> = [];
    for (let i = 0; i < 200 && found.length === 0; i++) {
      found = await warnings(cp, namespace, c.name, uids.get(c.name)!);
      if (found.length === 0) await sleep(50);
    }
    assert.equal(found.length, 1, `${c.name}: one AddNetworkFailed event`);
    assert.match(found[0]!.message ?? '', new RegExp(`^${c.code}: pod ${namespace}/${c.name}`));
    // The pod condition says the same (docs/readiness.md), written before the runtime's answer.
    const pod = await cp.client.get<KubeObject & { status?: { conditions?: Record<string, string>[] } }>({
      apiVersion: 'v1',
      kind: 'Pod',
      namespace,
      name: c.name,
    });
    const ready = pod.status?.conditions?.find((x) => x['type'] === 'NetworksReady');
    assert.equal(ready?.['status'], 'False', `${c.name}: NetworksReady`);
    assert.equal(ready?.['reason'], 'NetworkMissing');
    assert.match(ready?.['message'] ?? '', new RegExp(`^(network \\S+|the pod's networks) .*${c.code}`));
  }
}

describe('AddNetworkFailed for failures before planning', () => {
  let cp: ControlPlane;
  before(async () => {
    cp = await startControlPlane();
    await cp.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'elsewhere' } });
    await cp.client.create({
      apiVersion: 'k8s.cni.cncf.io/v1',
      kind: 'NetworkAttachmentDefinition',
      metadata: { namespace: 'elsewhere', name: 'mv' },
      spec: { config: JSON.stringify({ cniVersion: '1.0.0', type: 'macvlan', master: 'ens1' }) },
    });
  });
  after(async () => {
    await cp?.stop();
  });

  test('thin mode', async (t: TestContext) => {
    const topo = await NetnsTopology.create(t);
    t.after(await forwardApiIntoNetns(cp.server, topo.node, topo.tmpDir));
    const namespace = 'failed-thin';
    const uids = await scene(cp, namespace);
    const defaultConf = join(topo.tmpDir, '10-podnet.conflist');
    await writeFile(
      defaultConf,
      JSON.stringify(bridgeConf(topo, { subnet: '10.74.0.0/24', bridge: 'mnaf0' })),
    );
    const podNs = await topo.addPod();
    const config = {
      cniVersion: '1.0.0',
      name: 'multinet',
      type: 'multinet',
      kubeconfig: cp.multinetKubeconfig,
      clusterNetwork: defaultConf,
      cacheDir: topo.cacheDir,
      binDirs: ['/usr/lib/cni'],
      namespaceIsolation: true,
      globalNamespaces: [],
    };
    await expectEvents(cp, namespace, uids, (name) =>
      runCni(
        {
          command: 'ADD',
          containerId: `ctr-${name}`,
          netns: podNs.path,
          args: {
            IgnoreUnknown: '1',
            K8S_POD_NAMESPACE: namespace,
            K8S_POD_NAME: name,
            K8S_POD_UID: uids.get(name)!,
          },
          config,
        },
        { nodeNs: topo.node, hostLocalDir: join(topo.tmpDir, 'host-local') },
      ),
    );
    assert.deepEqual(
      (await linksIn(podNs.name)).map((l) => l.ifname),
      ['lo'],
      'nothing attached',
    );
  });

  test('thick mode', async (t: TestContext) => {
    const topo = await NetnsTopology.create(t);
    t.after(await forwardApiIntoNetns(cp.server, topo.node, topo.tmpDir));
    const namespace = 'failed-thick';
    const setup = await daemonDirs(topo);
    await writeFile(
      join(setup.confDir, '10-podnet.conflist'),
      JSON.stringify(bridgeConf(topo, { subnet: '10.75.0.0/24', bridge: 'mnaf1' })),
    );
    const daemon = await startDaemon(t, topo, setup, {
      kubeconfig: cp.multinetKubeconfig,
      nodeName: NODE,
      namespaceIsolation: true,
      globalNamespaces: [],
    });
    const port = await daemon.metricsPort();
    await waitFor('caches synced', () => /"ready":true/.test(scrape(topo, port, '/readyz')), 20_000);
    const uids = await scene(cp, namespace);
    const podNs = await topo.addPod();
    const shimConf = {
      cniVersion: '1.0.0',
      name: 'multinet-cni-network',
      plugins: [{ type: 'multinet-shim', socketPath: setup.socketPath }],
    };
    await expectEvents(cp, namespace, uids, (name) =>
      shimCall(topo, shimConf, {
        command: 'ADD',
        containerId: `ctr-${name}`,
        netns: podNs.path,
        args: {
          IgnoreUnknown: '1',
          K8S_POD_NAMESPACE: namespace,
          K8S_POD_NAME: name,
          K8S_POD_UID: uids.get(name)!,
        },
      }),
    );
    assert.deepEqual(
      (await linksIn(podNs.name)).map((l) => l.ifname),
      ['lo'],
      'nothing attached',
    );
    assert.equal(await daemon.stop(), 0);
  });
});
