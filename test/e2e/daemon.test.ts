/**
 * Thick mode end to end: the real daemon (informers against a real kube-apiserver, as the
 * multinet ServiceAccount), the bundled shim exec'd as a runtime would, the reference plugins
 * in real namespaces. Checks the pod's network-status and the API cost of a steady-state ADD:
 * no reads (the watch caches answer), one status write.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseNetworkStatus } from '../../src/spec/network-status.ts';
import {
  bridgeConf,
  buildShim,
  daemonDirs,
  scrape,
  shimCall,
  startDaemon,
  waitFor,
} from '../integration/daemon-harness.ts';
import { forwardApiIntoNetns } from '../support/api-forwarder.ts';
import { startControlPlane, type ControlPlane } from '../support/control-plane.ts';
import { addressesOf, allocations, linkIn, NetnsTopology } from '../support/netns.ts';

const NODE = 'node-daemon-e2e';
const SA_USER = 'system:serviceaccount:kube-system:multinet';

/** `multinet_kube_api_requests_total` by verb and resource, summed over status codes. */
function apiCounts(metrics: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of metrics.matchAll(
    /^multinet_kube_api_requests_total\{verb="([^"]+)",resource="([^"]+)",code="[^"]*"\} (\d+)/gm,
  )) {
    const key = `${m[1]} ${m[2]}`;
    out[key] = (out[key] ?? 0) + Number(m[3]);
  }
  return out;
}

function gauge(metrics: string, name: string, resource: string): number {
  const m = new RegExp(`^${name}\\{resource="${resource}"\\} (\\d+)`, 'm').exec(metrics);
  return m ? Number(m[1]) : -1;
}

describe('thick mode against a real kube-apiserver', { timeout: 180_000 }, () => {
  let cp: ControlPlane;
  before(async () => {
    cp = await startControlPlane();
  });
  after(async () => {
    await cp?.stop();
  });

  it('ADD through the shim: eth0 + net1, network-status, zero API reads and one status write', async (t) => {
    buildShim();
    const topo = await NetnsTopology.create(t);
    t.after(await forwardApiIntoNetns(cp.server, topo.node, topo.tmpDir));
    const setup = await daemonDirs(topo);
    await writeFile(
      join(setup.confDir, '10-podnet.conflist'),
      JSON.stringify(bridgeConf(topo, { subnet: '10.67.0.0/24', bridge: 'mne0' })),
    );
    const daemon = await startDaemon(t, topo, setup, {
      kubeconfig: cp.multinetKubeconfig,
      nodeName: NODE,
      podLookupTimeoutSeconds: 5,
    });
    const port = await daemon.metricsPort();
    await waitFor('caches synced', () => /"ready":true/.test(scrape(topo, port, '/readyz')), 20_000);

    // Created after the daemon started: the watches must deliver them.
    await cp.client.create({
      apiVersion: 'k8s.cni.cncf.io/v1',
      kind: 'NetworkAttachmentDefinition',
      metadata: { namespace: 'default', name: 'macvlan-e2e' },
      spec: {
        config: JSON.stringify({
          cniVersion: '1.0.0',
          type: 'macvlan',
          master: 'ens1',
          mode: 'bridge',
          ipam: { type: 'host-local', ranges: [[{ subnet: '10.68.0.0/24' }]], dataDir: topo.dataDir },
        }),
      },
    });
    const created = await cp.client.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        namespace: 'default',
        name: 'daemon-e2e',
        annotations: { 'k8s.v1.cni.cncf.io/networks': 'macvlan-e2e' },
      },
      spec: { nodeName: NODE, containers: [{ name: 'c', image: 'example.invalid/none' }] },
    });
    // A pod on another node must not enter this node's cache.
    await cp.client.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { namespace: 'default', name: 'elsewhere' },
      spec: { nodeName: 'other-node', containers: [{ name: 'c', image: 'example.invalid/none' }] },
    });
    await waitFor('pod and NAD in the caches', () => {
      const m = scrape(topo, port);
      return (
        gauge(m, 'multinet_cache_objects', 'pods') === 1 &&
        gauge(m, 'multinet_cache_objects', 'network-attachment-definitions') === 1
      );
    });

    const before = apiCounts(scrape(topo, port));
    const auditBefore = (await cp.readAudit()).length;
    const podNs = await topo.addPod();
    const args = {
      IgnoreUnknown: '1',
      K8S_POD_NAMESPACE: 'default',
      K8S_POD_NAME: 'daemon-e2e',
      K8S_POD_INFRA_CONTAINER_ID: 'ctr-e2e',
      K8S_POD_UID: created.metadata!.uid!,
    };
    const shimConf = {
      cniVersion: '1.0.0',
      name: 'multinet-cni-network',
      plugins: [{ type: 'multinet-shim', socketPath: setup.socketPath }],
    };
    const add = await shimCall(topo, shimConf, {
      command: 'ADD',
      containerId: 'ctr-e2e',
      netns: podNs.path,
      args,
    });
    assert.equal(add.exitCode, 0, `${add.stdout}\n${daemon.describe()}`);
    assert.match((await addressesOf(podNs.name, 'eth0'))[0] ?? '', /^10\.67\.0\.\d+\/24$/);
    assert.match((await addressesOf(podNs.name, 'net1'))[0] ?? '', /^10\.68\.0\.\d+\/24$/);

    const pod = await cp.client.get({
      apiVersion: 'v1',
      kind: 'Pod',
      namespace: 'default',
      name: 'daemon-e2e',
    });
    const status = parseNetworkStatus(pod.metadata!.annotations!['k8s.v1.cni.cncf.io/network-status']!);
    assert.deepEqual(
      status.map((e) => [e.name, e.interface, e.default]),
      [
        ['podnet', 'eth0', true],
        ['default/macvlan-e2e', 'net1', false],
      ],
    );

    const afterAdd = apiCounts(scrape(topo, port));
    const delta = (k: string) => (afterAdd[k] ?? 0) - (before[k] ?? 0);
    assert.equal(delta('get pods'), 0, 'no pod read: the cache answered');
    assert.equal(delta('get network-attachment-definitions'), 0, 'no NAD read');
    assert.equal(delta('get networks'), 0);
    assert.equal(delta('list pods') + delta('list network-attachment-definitions'), 0);
    assert.equal(delta('patch pods/status'), 1, 'one status write');

    // The API server's own record agrees: the ServiceAccount read nothing for this ADD.
    const events = (
      await cp.waitForAudit((ev) => ev.slice(auditBefore).some((e) => e.verb === 'patch'))
    ).slice(auditBefore);
    const mine = events.filter((e) => e.user.username === SA_USER && e.stage === 'ResponseComplete');
    assert.deepEqual(
      mine.filter((e) => e.verb === 'get' || e.verb === 'list').map((e) => e.requestURI),
      [],
    );
    assert.equal(mine.filter((e) => e.verb === 'patch' && e.objectRef?.subresource === 'status').length, 1);

    const del = await shimCall(topo, shimConf, {
      command: 'DEL',
      containerId: 'ctr-e2e',
      netns: podNs.path,
      args,
    });
    assert.equal(del.exitCode, 0, del.stdout);
    assert.equal(await linkIn(podNs.name, 'net1'), undefined);
    assert.equal(await linkIn(podNs.name, 'eth0'), undefined);
    assert.deepEqual(await allocations(topo.dataDir, 'podnet'), []);
    assert.deepEqual(await allocations(topo.dataDir, 'macvlan-e2e'), []);
    assert.equal(await daemon.stop(), 0);
  });
});
