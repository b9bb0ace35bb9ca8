/**
 * What a real kubelet does after a pod's own DEL: its sandbox GC makes containerd call
 * StopPodSandbox and RemovePodSandbox again, two more CNI DELs with no plan, for a pod the API no
 * longer has. Such a DEL must not wait for the pod to appear (podLookupTimeoutSeconds): the API's
 * 404 is final. Real kube-apiserver, real plugins, thin plugin and daemon + shim.
 */
import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
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
import { allocations, NetnsTopology, type PodNs } from '../support/netns.ts';

const SA_USER = 'system:serviceaccount:kube-system:multinet';
const NODE = 'node-del-gone';

const macvlanNad = (namespace: string, dataDir: string): KubeObject => ({
  apiVersion: 'k8s.cni.cncf.io/v1',
  kind: 'NetworkAttachmentDefinition',
  metadata: { namespace, name: 'mv' },
  spec: {
    config: JSON.stringify({
      cniVersion: '1.0.0',
      type: 'macvlan',
      master: 'ens1',
      ipam: { type: 'host-local', ranges: [[{ subnet: '10.71.0.0/24' }]], dataDir },
    }),
  },
});

async function createPod(cp: ControlPlane, namespace: string, name: string) {
  await cp.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  const created = await cp.client.create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { namespace, name, annotations: { 'k8s.v1.cni.cncf.io/networks': 'mv' } },
    spec: { nodeName: NODE, containers: [{ name: 'c', image: 'example.invalid/none' }] },
  });
  return created.metadata!.uid!;
}

async function deletePod(cp: ControlPlane, namespace: string, name: string) {
  const ref = { apiVersion: 'v1', kind: 'Pod', namespace, name };
  await cp.client.delete(ref, { gracePeriodSeconds: '0' });
  for (;;) {
    try {
      await cp.client.get(ref);
    } catch {
      return;
    }
    await sleep(50);
  }
}

/** The pod GETs multinet's ServiceAccount made since `from` (the API server's own record). */
async function podReads(cp: ControlPlane, from: number, namespace: string, name: string) {
  const events = (await cp.readAudit()).slice(from);
  return events.filter(
    (e) =>
      e.user.username === SA_USER &&
      e.stage === 'ResponseComplete' &&
      e.verb === 'get' &&
      e.objectRef?.resource === 'pods' &&
      e.objectRef.subresource === undefined &&
      e.objectRef.namespace === namespace &&
      e.objectRef.name === name,
  ).length;
}

async function leftovers(topo: NetnsTopology, cacheDir: string, networks: string[]) {
  const ips: string[] = [];
  for (const n of networks) ips.push(...(await allocations(topo.dataDir, n)));
  const cache: string[] = [];
  for (const sub of ['plans', 'results'])
    cache.push(...(await readdir(join(cacheDir, sub)).catch(() => [] as string[])));
  return { ips, cache };
}

describe('DEL of a pod that no longer exists', () => {
  let cp: ControlPlane;
  before(async () => {
    cp = await startControlPlane();
  });
  after(async () => {
    await cp?.stop();
  });

  test('thin: each sandbox-GC DEL reads the pod once and does not wait for it', async (t: TestContext) => {
    const topo = await NetnsTopology.create(t);
    t.after(await forwardApiIntoNetns(cp.server, topo.node, topo.tmpDir));
    const namespace = 'gone-thin';
    const name = 'p';
    const defaultConf = join(topo.tmpDir, '10-podnet.conflist');
    await writeFile(
      defaultConf,
      JSON.stringify(bridgeConf(topo, { subnet: '10.72.0.0/24', bridge: 'mngn0' })),
    );
    const uid = await createPod(cp, namespace, name);
    await cp.client.create(macvlanNad(namespace, topo.dataDir));
    const config = {
      cniVersion: '1.0.0',
      name: 'multinet',
      type: 'multinet',
      kubeconfig: cp.multinetKubeconfig,
      clusterNetwork: defaultConf,
      cacheDir: topo.cacheDir,
      binDirs: ['/usr/lib/cni'],
      podLookupTimeoutSeconds: 3,
    };
    const podNs = await topo.addPod();
    const cni = (command: 'ADD' | 'DEL', netns: PodNs | undefined): Promise<CniOutcome> =>
      runCni(
        {
          command,
          containerId: 'ctr-gone-thin',
          netns: netns?.path ?? '',
          args: {
            IgnoreUnknown: '1',
            K8S_POD_NAMESPACE: namespace,
            K8S_POD_NAME: name,
            K8S_POD_INFRA_CONTAINER_ID: 'ctr-gone-thin',
            K8S_POD_UID: uid,
          },
          config,
        },
        { nodeNs: topo.node, hostLocalDir: join(topo.tmpDir, 'host-local') },
      );
    const add = await cni('ADD', podNs);
    assert.equal(add.exitCode, 0, add.stdout + add.stderr);
    const del = await cni('DEL', podNs);
    assert.equal(del.exitCode, 0, del.stdout + del.stderr);
    await deletePod(cp, namespace, name);
    await topo.removePod(podNs);

    for (const round of [1, 2]) {
      const from = (await cp.readAudit()).length;
      const gc = await cni('DEL', undefined);
      assert.equal(gc.exitCode, 0, `GC DEL ${round}: ${gc.stdout}${gc.stderr}`);
      // The waiting lookup re-reads every 50-400 ms for 3 s (8 reads and more): one read is the
      // whole DEL. The audit log is written when the response completes: wait for that one.
      await cp.waitForAudit((ev) => ev.slice(from).some((e) => e.objectRef?.name === name));
      assert.equal(await podReads(cp, from, namespace, name), 1, `GC DEL ${round}: pod reads`);
    }
    assert.deepEqual(await leftovers(topo, topo.cacheDir, ['podnet', 'mv']), { ips: [], cache: [] });
  });

  test('thick: a GC DEL answers without waiting for the pod (lookup timeout 120 s)', async (t: TestContext) => {
    const topo = await NetnsTopology.create(t);
    t.after(await forwardApiIntoNetns(cp.server, topo.node, topo.tmpDir));
    const namespace = 'gone-thick';
    const name = 'p';
    const setup = await daemonDirs(topo);
    await writeFile(
      join(setup.confDir, '10-podnet.conflist'),
      JSON.stringify(bridgeConf(topo, { subnet: '10.73.0.0/24', bridge: 'mngn1' })),
    );
    const daemon = await startDaemon(t, topo, setup, {
      kubeconfig: cp.multinetKubeconfig,
      nodeName: NODE,
      podLookupTimeoutSeconds: 120,
    });
    const port = await daemon.metricsPort();
    await waitFor('caches synced', () => /"ready":true/.test(scrape(topo, port, '/readyz')), 20_000);
    const uid = await createPod(cp, namespace, name);
    await cp.client.create(macvlanNad(namespace, topo.dataDir));
    const shimConf = {
      cniVersion: '1.0.0',
      name: 'multinet-cni-network',
      plugins: [{ type: 'multinet-shim', socketPath: setup.socketPath }],
    };
    const args = {
      IgnoreUnknown: '1',
      K8S_POD_NAMESPACE: namespace,
      K8S_POD_NAME: name,
      K8S_POD_INFRA_CONTAINER_ID: 'ctr-gone-thick',
      K8S_POD_UID: uid,
    };
    const call = (command: 'ADD' | 'DEL', netns: PodNs | undefined) =>
      shimCall(topo, shimConf, { command, containerId: 'ctr-gone-thick', netns: netns?.path ?? '', args });
    const podNs = await topo.addPod();
    const add = await call('ADD', podNs);
    assert.equal(add.exitCode, 0, `${add.stdout}\n${daemon.describe()}`);
    assert.equal((await call('DEL', podNs)).exitCode, 0);
    await deletePod(cp, namespace, name);
    await topo.removePod(podNs);
    // Let the watch deliver the deletion, as it has long done when the kubelet's GC runs.
    await waitFor('pod gone from the cache', () =>
      /^multinet_cache_objects\{resource="pods"\} 0$/m.test(scrape(topo, port)),
    );

    for (const round of [1, 2]) {
      // Not a speed assertion: a DEL that waited for the pod would take the whole 120 s lookup
      // timeout; 30 s is a margin of hundreds of times a DEL's usual cost.
      const bound = sleep(30_000, 'bound' as const, { ref: false });
      const gc = await Promise.race([call('DEL', undefined), bound]);
      assert.notEqual(gc, 'bound', `GC DEL ${round} waited for the pod:\n${daemon.describe()}`);
      assert.equal((gc as CniOutcome).exitCode, 0, (gc as CniOutcome).stdout);
    }
    assert.deepEqual(await leftovers(topo, topo.cacheDir, ['podnet', 'mv']), { ips: [], cache: [] });
    assert.equal(await daemon.stop(), 0);
  });
});
