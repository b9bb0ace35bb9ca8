/**
 * A real runtime drives thick mode: containerd + runc in a test node namespace run pod sandboxes
 * through the CRI for pods created in a real kube-apiserver. containerd execs the bundled shim
 * from its CNI bin dir with the daemon-generated 00-multinet.conflist; the daemon (informers as
 * the multinet ServiceAccount) attaches eth0 (bridge) and net1 (macvlan from the pod's
 * annotation). Checks both interfaces, network-status, a ping between two pods over net1, and
 * that StopPodSandbox + RemovePodSandbox leave nothing behind.
 */
import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseNetworkStatus } from '../../src/spec/network-status.ts';
import {
  bridgeConf,
  buildShim,
  daemonDirs,
  scrape,
  startDaemon,
  waitFor,
} from '../integration/daemon-harness.ts';
import { forwardApiIntoNetns } from '../support/api-forwarder.ts';
import { REPO_ROOT, startControlPlane, type ControlPlane } from '../support/control-plane.ts';
import { allocations, NetnsTopology } from '../support/netns.ts';
import {
  buildPauseImage,
  cniBinDir,
  CriClient,
  criProtoPath,
  importImage,
  missingPrerequisite,
  sandboxConfig,
  sandboxNetnsPath,
  startContainerd,
} from './daemon-containerd-support.ts';

const NODE = 'node-containerd-e2e';
const missing = missingPrerequisite();

describe('thick mode driven by containerd through the CRI', { timeout: 240_000, skip: missing }, () => {
  let cp: ControlPlane;
  before(async () => {
    cp = await startControlPlane();
  });
  after(async () => {
    await cp?.stop();
  });

  it('two pod sandboxes get eth0 + net1, network-status, ping over net1; stop/remove leave nothing', async (t) => {
    const shim = buildShim();
    const topo = await NetnsTopology.create(t);
    t.after(await forwardApiIntoNetns(cp.server, topo.node, topo.tmpDir));
    const setup = await daemonDirs(topo);
    await writeFile(
      join(setup.confDir, '10-podnet.conflist'),
      JSON.stringify(bridgeConf(topo, { subnet: '10.73.0.0/24', bridge: 'mnc0' })),
    );
    await cp.client.create({
      apiVersion: 'k8s.cni.cncf.io/v1',
      kind: 'NetworkAttachmentDefinition',
      metadata: { namespace: 'default', name: 'macvlan-cri' },
      spec: {
        config: JSON.stringify({
          cniVersion: '1.0.0',
          type: 'macvlan',
          master: 'ens1',
          mode: 'bridge',
          ipam: { type: 'host-local', ranges: [[{ subnet: '10.74.0.0/24' }]], dataDir: topo.dataDir },
        }),
      },
    });

    const runtimeDir = join(topo.tmpDir, 'runtime');
    const ctr = await startContainerd({
      dir: runtimeDir,
      nodePath: topo.nodePath,
      cniBinDir: await cniBinDir(topo.tmpDir, shim),
      cniConfDir: setup.confDir,
    });
    t.after(() => ctr.stop());
    const daemon = await startDaemon(
      t,
      topo,
      setup,
      { kubeconfig: cp.multinetKubeconfig, nodeName: NODE, podLookupTimeoutSeconds: 5 },
      {
        command: [
          'nsenter',
          `--mount=/proc/${ctr.mountHolder}/ns/mnt`,
          `--wd=${REPO_ROOT}`,
          '--',
          process.execPath,
          '--import',
          'tsx',
          join(REPO_ROOT, 'src/bin/multinet.ts'),
        ],
      },
    );
    const port = await daemon.metricsPort();
    await waitFor('daemon ready', () => /"ready":true/.test(scrape(topo, port, '/readyz')), 20_000);
    await importImage(ctr, await buildPauseImage(topo.tmpDir));

    const cri = new CriClient(ctr.socket, criProtoPath());
    t.after(() => cri.close());
    await waitFor(
      'CRI network ready',
      async () => {
        const st = (await cri.call('Status', {})) as {
          status?: { conditions?: { type: string; status: boolean }[] };
        };
        return st.status?.conditions?.find((c) => c.type === 'NetworkReady')?.status === true;
      },
      20_000,
    );

    const pods = [];
    for (const name of ['cri-a', 'cri-b']) {
      const created = await cp.client.create({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          namespace: 'default',
          name,
          annotations: { 'k8s.v1.cni.cncf.io/networks': 'macvlan-cri' },
        },
        spec: { nodeName: NODE, containers: [{ name: 'c', image: 'example.invalid/none' }] },
      });
      const config = sandboxConfig({
        name,
        namespace: 'default',
        uid: created.metadata!.uid!,
        annotations: { 'k8s.v1.cni.cncf.io/networks': 'macvlan-cri' },
        logDir: join(topo.tmpDir, 'logs', name),
      });
      const res = await cri.call('RunPodSandbox', { config }).catch((err: Error) => {
        throw new Error(`RunPodSandbox ${name}: ${err.message}\n${daemon.describe()}`);
      });
      const id = res['pod_sandbox_id'] as string;
      const status = await cri.call('PodSandboxStatus', { pod_sandbox_id: id, verbose: true });
      pods.push({ name, id, netns: sandboxNetnsPath(status) });
    }

    const addr = async (netns: string, ifname: string) => {
      const links = JSON.parse(await ctr.exec(['ip', '-j', 'addr', 'show', 'dev', ifname], netns)) as {
        addr_info: { family: string; local: string; prefixlen: number }[];
      }[];
      return (
        links[0]?.addr_info.filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`) ?? []
      );
    };
    for (const p of pods) {
      assert.match((await addr(p.netns, 'eth0'))[0] ?? '', /^10\.73\.0\.\d+\/24$/);
      assert.match((await addr(p.netns, 'net1'))[0] ?? '', /^10\.74\.0\.\d+\/24$/);
      const obj = await cp.client.get({ apiVersion: 'v1', kind: 'Pod', namespace: 'default', name: p.name });
      const status = parseNetworkStatus(obj.metadata!.annotations!['k8s.v1.cni.cncf.io/network-status']!);
      assert.deepEqual(
        status.map((e) => [e.name, e.interface]),
        [
          ['podnet', 'eth0'],
          ['default/macvlan-cri', 'net1'],
        ],
      );
    }
    const bNet1 = (await addr(pods[1]!.netns, 'net1'))[0]!.split('/')[0]!;
    await ctr.exec(['ping', '-c', '2', '-W', '2', '-I', 'net1', bNet1], pods[0]!.netns);

    for (const p of pods) {
      await cri.call('StopPodSandbox', { pod_sandbox_id: p.id });
      await cri.call('RemovePodSandbox', { pod_sandbox_id: p.id });
    }
    assert.deepEqual(await allocations(topo.dataDir, 'podnet'), []);
    assert.deepEqual(await allocations(topo.dataDir, 'macvlan-cri'), []);
    assert.deepEqual(await readdir(join(topo.cacheDir, 'plans')).catch(() => []), []);
    const dels = daemon.logs.filter((l) => l['command'] === 'DEL' && l.msg === 'CNI request done');
    assert.ok(dels.length >= 4, `StopPodSandbox and RemovePodSandbox each sent DEL (${dels.length})`);
    assert.equal(await daemon.stop(), 0);
  });
});
