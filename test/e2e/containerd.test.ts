/**
 * A real runtime drives thick mode (issue 4): containerd 1.6 + runc in a test node namespace run
 * pod sandboxes through the CRI for pods created in a real kube-apiserver. containerd's CNI conf
 * dir starts with only the primary network; the daemon (the bundle the DaemonSet runs) writes
 * 00-multinet.conflist there, and containerd execs the shim that `multinet install` put in
 * its bin dir beside the reference plugins. Checks eth0 + net1 in each sandbox, network-status,
 * a ping over net1, and that StopPodSandbox + RemovePodSandbox leave nothing behind.
 * How it is put together: docs/containerd-e2e.md.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { dirname, join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import { parseNetworkStatus } from '../../src/spec/network-status.ts';
import { buildDaemonBundle, buildShim, DaemonProcess, waitFor } from '../integration/daemon-harness.ts';
import { forwardApiIntoNetns } from '../support/api-forwarder.ts';
import { Containerd, missingRuntimePrerequisite, NodeMounts, shimProcesses } from '../support/containerd.ts';
import { REPO_ROOT, startControlPlane, type ControlPlane } from '../support/control-plane.ts';
import {
  allocations,
  linksIn,
  NetnsTopology,
  PLUGIN_DIR,
  PLUGIN_ENV,
  type IpLink,
} from '../support/netns.ts';
import { buildSandboxImage } from '../support/sandbox-image.ts';

const run = promisify(execFile);
const NODE_NAME = 'node1';
const NAMESPACE = 'cri-e2e';
const NETWORKS = 'k8s.v1.cni.cncf.io/networks';
const PRIMARY = { subnet: '10.77.0.0/24', bridge: 'mncri0' };
const NET1_SUBNET = '10.78.0.0/24';
const missing = await missingRuntimePrerequisite();

/** Teardown in reverse order of set-up, whatever failed; errors are reported after all ran. */
class Teardown {
  private readonly steps: (() => unknown)[] = [];
  push(step: () => unknown): void {
    this.steps.push(step);
  }
  /** For helpers that register their own cleanup on a TestContext. */
  asContext(): TestContext {
    return { after: (fn: () => unknown) => this.push(fn) } as unknown as TestContext;
  }
  async run(): Promise<void> {
    const errors: unknown[] = [];
    for (const step of this.steps.reverse())
      await Promise.resolve()
        .then(step)
        .catch((e: unknown) => errors.push(e));
    if (errors.length > 0) throw new AggregateError(errors, 'teardown failed');
  }
}

/** GET on the daemon's socket. */
function getOverSocket(socketPath: string, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, timeout: 2_000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}

async function sandboxLinks(pid: number): Promise<IpLink[]> {
  const { stdout } = await run('nsenter', [`--net=/proc/${pid}/ns/net`, '--', 'ip', '-d', '-j', 'addr'], {
    env: PLUGIN_ENV,
  });
  return JSON.parse(stdout) as IpLink[];
}

const ipv4 = (link: IpLink | undefined): string[] =>
  (link?.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`);

/** Files below `dir`, recursively (directories themselves are not listed). */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => !e.isDirectory()).map((e) => join(e.parentPath, e.name));
}

describe('containerd drives thick mode through the CRI', { timeout: 120_000, skip: missing }, () => {
  let cp: ControlPlane;
  /** The artefacts the DaemonSet ships: the daemon/CLI bundle (with its node flags) and the shim. */
  let multinet: string[];
  let shim: string;
  let image: string;
  before(async () => {
    [cp, image] = await Promise.all([startControlPlane(), buildSandboxImage()]);
    multinet = buildDaemonBundle();
    // The shim as shipped: the Bun-compiled executable (`npm run build:shim-bin`, which
    // scripts/test.sh runs), so no Node.js is needed on the "host"; the JS bundle otherwise.
    shim = existsSync(join(REPO_ROOT, 'dist/multinet-shim-bin'))
      ? join(REPO_ROOT, 'dist/multinet-shim-bin')
      : buildShim();
  });
  after(async () => {
    await cp?.stop();
  });

  it('two sandboxes get eth0 + net1 and network-status, ping over net1; stop/remove leave nothing', async (t) => {
    const down = new Teardown();
    t.after(() => down.run());
    const topo = await NetnsTopology.create(down.asContext());
    down.push(await forwardApiIntoNetns(cp.server, topo.node, topo.tmpDir));
    const mounts = await NodeMounts.start(topo.nodePath, join(topo.tmpDir, 'private'));
    down.push(() => mounts.stop());

    // The runtime's CNI dirs: the primary network only, and the reference plugins plus the shim.
    const confDir = join(topo.tmpDir, 'net.d');
    const binDir = join(topo.tmpDir, 'cni-bin');
    await mkdir(confDir);
    await mkdir(binDir);
    for (const p of await readdir(PLUGIN_DIR)) await symlink(join(PLUGIN_DIR, p), join(binDir, p));
    await run(
      multinet[0]!,
      [...multinet.slice(1), 'install', '--type', 'thick', '--bin-dir', binDir, '--source', shim],
      {
        env: PLUGIN_ENV,
      },
    );
    const primary = {
      cniVersion: '1.0.0',
      name: 'podnet',
      plugins: [
        {
          type: 'bridge',
          bridge: PRIMARY.bridge,
          isGateway: true,
          ipam: { type: 'host-local', ranges: [[{ subnet: PRIMARY.subnet }]], dataDir: topo.dataDir },
        },
      ],
    };
    await writeFile(join(confDir, '10-podnet.conflist'), JSON.stringify(primary));

    // The daemon first, so that containerd's first look at the conf dir finds multinet's config.
    const socketPath = join(topo.tmpDir, 'multinet', 'multinet.sock');
    const daemonConfig = join(topo.tmpDir, 'daemon.json');
    await writeFile(
      daemonConfig,
      JSON.stringify({
        autoConfig: true,
        cniConfDir: confDir,
        kubeconfig: cp.multinetKubeconfig,
        nodeName: NODE_NAME,
        cacheDir: topo.cacheDir,
        // binDir links to the reference plugins: their real files must be in a configured dir too.
        binDirs: [binDir, PLUGIN_DIR],
        socketPath,
        metricsAddress: '',
        rescanIntervalSeconds: 1,
      }),
    );
    const daemon = new DaemonProcess(
      spawn(
        mounts.enter()[0]!,
        [...mounts.enter().slice(1), ...multinet, 'daemon', '--config', daemonConfig],
        {
          env: { ...PLUGIN_ENV, HOME: '/root' },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      ),
    );
    down.push(async () => {
      if (daemon.exitCode === undefined) daemon.proc.kill('SIGKILL');
      await daemon.exited;
    });
    const failWith = async (err: unknown, ctr?: Containerd): Promise<never> => {
      const logs = ctr ? `\n--- containerd ---\n${await ctr.logTail()}` : '';
      throw new Error(`${String(err)}\n--- daemon ---\n${daemon.describe().slice(-6000)}${logs}`, {
        cause: err,
      });
    };
    await waitFor(
      'daemon ready',
      async () => {
        if (daemon.exitCode !== undefined) throw new Error(`the daemon exited (${daemon.exitCode})`);
        return /"ready":true/.test(await getOverSocket(socketPath, '/readyz').catch(() => ''));
      },
      20_000,
    ).catch(failWith);
    assert.ok(existsSync(join(confDir, '00-multinet.conflist')), 'the daemon wrote 00-multinet.conflist');

    const ctr = await Containerd.start(mounts, {
      dir: join(topo.tmpDir, 'containerd'),
      cniBinDir: binDir,
      cniConfDir: confDir,
    });
    down.push(() => ctr.stop());
    try {
      await ctr.importImage(image);
      let loaded = '';
      await waitFor(
        'CRI NetworkReady with multinet config',
        async () => {
          const st = await ctr.cri.networkStatus();
          loaded = st.cniConfig;
          return st.ready && loaded.includes('multinet-shim');
        },
        20_000,
      );
      assert.match(loaded, /"multinet-cni-network"/);

      await cp.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
      await cp.client.create({
        apiVersion: 'k8s.cni.cncf.io/v1',
        kind: 'NetworkAttachmentDefinition',
        metadata: { namespace: NAMESPACE, name: 'macvlan-net1' },
        spec: {
          config: JSON.stringify({
            cniVersion: '1.0.0',
            type: 'macvlan',
            master: topo.master,
            mode: 'bridge',
            ipam: { type: 'host-local', ranges: [[{ subnet: NET1_SUBNET }]], dataDir: topo.dataDir },
          }),
        },
      });
      const annotations = { [NETWORKS]: 'macvlan-net1' };
      const pods: { name: string; uid: string }[] = [];
      for (const name of ['cri-a', 'cri-b']) {
        const created = await cp.client.create({
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { namespace: NAMESPACE, name, annotations },
          spec: { nodeName: NODE_NAME, containers: [{ name: 'c', image: 'example.invalid/none' }] },
        });
        pods.push({ name, uid: created.metadata!.uid! });
      }

      const sandboxes = [];
      for (const p of pods) {
        const t0 = performance.now();
        const id = await ctr.cri.runPodSandbox(
          { name: p.name, namespace: NAMESPACE, uid: p.uid },
          annotations,
          join(topo.tmpDir, 'logs', p.name),
        );
        const ms = performance.now() - t0;
        t.diagnostic(`RunPodSandbox ${p.name}: ${ms.toFixed(0)} ms`);
        sandboxes.push({ ...p, id, status: await ctr.cri.podSandboxStatus(id) });
      }

      const adds = daemon.logs.filter((l) => l['command'] === 'ADD' && l.msg === 'CNI request done');
      t.diagnostic(
        `daemon ADD (shim to delegates and network-status): ${adds.map((l) => `${String(l['ms'])} ms`).join(', ')}`,
      );

      const net1Of: string[] = [];
      for (const s of sandboxes) {
        assert.ok(s.status.pid && s.status.netnsPath, `sandbox ${s.name} has a pause process and a netns`);
        const links = await sandboxLinks(s.status.pid);
        const eth0 = links.find((l) => l.ifname === 'eth0');
        const net1 = links.find((l) => l.ifname === 'net1');
        assert.equal(eth0?.linkinfo?.info_kind, 'veth', `${s.name}: eth0 is the bridge's veth`);
        assert.equal(net1?.linkinfo?.info_kind, 'macvlan', `${s.name}: net1 is the macvlan`);
        const [eth0Ip] = ipv4(eth0);
        const [net1Ip] = ipv4(net1);
        assert.match(eth0Ip ?? '', /^10\.77\.0\.\d+\/24$/);
        assert.match(net1Ip ?? '', /^10\.78\.0\.\d+\/24$/);
        // containerd took the pod IP from the result the shim returned: the default network's.
        assert.equal(s.status.network?.ip, eth0Ip!.split('/')[0]);
        net1Of.push(net1Ip!.split('/')[0]!);

        const pod = await cp.client.get({
          apiVersion: 'v1',
          kind: 'Pod',
          namespace: NAMESPACE,
          name: s.name,
        });
        const status = parseNetworkStatus(pod.metadata!.annotations!['k8s.v1.cni.cncf.io/network-status']!);
        assert.deepEqual(
          status.map((e) => [e.name, e.interface, e.ips, e.default === true]),
          [
            ['podnet', 'eth0', [eth0Ip!.split('/')[0]], true],
            [`${NAMESPACE}/macvlan-net1`, 'net1', [net1Ip!.split('/')[0]], false],
          ],
        );
      }
      await run(
        'nsenter',
        [
          `--net=/proc/${sandboxes[0]!.status.pid}/ns/net`,
          '--',
          'ping',
          '-c',
          '2',
          '-i',
          '0.2',
          '-W',
          '2',
          '-I',
          'net1',
          net1Of[1]!,
        ],
        { env: PLUGIN_ENV },
      );

      // What the checks below expect to be gone is there now (so they cannot pass vacuously).
      const libcniCache = join(topo.tmpDir, 'private', 'var-lib-cni');
      assert.deepEqual(
        sandboxes.map((s) => dirname(s.status.netnsPath!)),
        [ctr.netnsDir, ctr.netnsDir],
        'containerd mounts pod netns under its state dir',
      );
      assert.equal((await ctr.netnsFiles()).length, 2);
      assert.ok((await filesUnder(libcniCache)).length > 0, "libcni's cache is the test's bind mount");
      assert.equal((await filesUnder(join(topo.cacheDir, 'plans'))).length, 2, 'one multinet plan per pod');

      const t0 = performance.now();
      for (const s of sandboxes) await ctr.cri.stopAndRemove(s.id);
      t.diagnostic(`StopPodSandbox + RemovePodSandbox, 2 pods: ${(performance.now() - t0).toFixed(0)} ms`);

      assert.deepEqual(await ctr.cri.listPodSandboxIds(), [], 'no sandbox left');
      assert.deepEqual(await ctr.netnsFiles(), [], 'containerd removed the pod netns files');
      assert.deepEqual(shimProcesses(ctr.socket), [], 'no containerd shim left');
      const linkNames = (await linksIn(topo.node)).map((l) => l.ifname).sort();
      assert.deepEqual(
        linkNames,
        ['ens1', 'ens1p', 'lo', PRIMARY.bridge].sort(),
        'no pod links in the node namespace',
      );
      for (const network of await readdir(topo.dataDir).catch(() => []))
        assert.deepEqual(
          await allocations(topo.dataDir, network),
          [],
          `host-local ${network}: no addresses left`,
        );
      assert.deepEqual(await filesUnder(join(topo.cacheDir, 'plans')), [], 'no multinet plan left');
      assert.deepEqual(await filesUnder(join(topo.cacheDir, 'results')), [], 'no delegate result left');
      assert.deepEqual(await filesUnder(libcniCache), [], 'no libcni cache left');
      const dels = daemon.logs.filter((l) => l['command'] === 'DEL' && l.msg === 'CNI request done');
      assert.ok(dels.length >= 4, `Stop and Remove each sent a DEL that succeeded (${dels.length})`);
      assert.equal(
        daemon.logs.filter((l) => l.level === 'error' || l.msg === 'CNI request failed').length,
        0,
      );
    } catch (err) {
      await failWith(err, ctr);
    }
    daemon.proc.kill('SIGTERM');
    assert.equal(await daemon.exited, 0, 'the daemon stops cleanly');
  });
});
