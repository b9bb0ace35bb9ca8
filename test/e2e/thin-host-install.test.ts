/**
 * Thin mode installed on a host as docs/thin-host.md says: `multinet install --type thin
 * --kubeconfig FILE --cluster-network FILE` writes the plugin, its credentials and
 * 00-multinet.conflist; the runtime then execs the installed plugin with the installed config
 * against a real kube-apiserver and the real plugins.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { after, before, describe, test } from 'node:test';
import { parseNetworkStatus } from '../../src/spec/network-status.ts';
import { bridgeConf } from '../integration/daemon-harness.ts';
import { forwardApiIntoNetns } from '../support/api-forwarder.ts';
import { runCni, THIN_PLUGIN } from '../support/cni-runtime.ts';
import { REPO_ROOT, startControlPlane, type ControlPlane } from '../support/control-plane.ts';
import { addressesOf, allocations, linksIn, NetnsTopology } from '../support/netns.ts';

/**
 * The administrator's files (docs/thin-host.md): a token file and a kubeconfig reading it, both
 * 0600, in `dir`. Returns the kubeconfig's path.
 */
async function writeTokenKubeconfig(cp: ControlPlane, dir: string): Promise<string> {
  const tokenFile = join(dir, 'token');
  await writeFile(tokenFile, `${cp.multinetToken}\n`, { mode: 0o600 });
  const kubeconfig = join(dir, 'kubeconfig');
  await writeFile(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{name: c, cluster: {server: "${cp.server}", certificate-authority: "${cp.caFile}"}}]`,
      `users: [{name: multinet, user: {tokenFile: "${tokenFile}"}}]`,
      'contexts: [{name: multinet, context: {cluster: c, user: multinet}}]',
      'current-context: multinet',
      '',
    ].join('\n'),
  );
  await chmod(kubeconfig, 0o600);
  return kubeconfig;
}

/** Runs a command with PATH only; its exit code (0 on success) and its output. */
function runCommand(command: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) =>
    execFile(command, args, { env: { PATH: process.env['PATH'] ?? '' } }, (err, stdout, stderr) =>
      err && typeof err.code !== 'number'
        ? reject(err)
        : resolve({ code: err ? Number(err.code) : 0, out: stdout + stderr }),
    ),
  );
}

describe('thin mode installed on a host', () => {
  let cp: ControlPlane;
  before(async () => {
    cp = await startControlPlane();
  });
  after(async () => {
    await cp?.stop();
  });

  test("deploy/thin/'s install (the image's node CLI, no --source) copies the Bun executable", async (t: TestContext) => {
    const shipped = join(REPO_ROOT, 'dist/multinet-bin');
    assert.ok(existsSync(shipped), `${shipped} missing: npm run build:thin-bin`);
    const dir = await mkdtemp(join(tmpdir(), 'mn-thin-default-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const [bin, conf] = [join(dir, 'bin'), join(dir, 'conf')];
    await mkdir(bin);
    await mkdir(conf);
    const primary = join(conf, '10-podnet.conflist');
    await writeFile(
      primary,
      JSON.stringify({ cniVersion: '1.0.0', name: 'podnet', plugins: [{ type: 'bridge' }] }),
    );
    const kubeconfig = await writeTokenKubeconfig(cp, dir);
    const { code, out } = await runCommand(process.execPath, [
      join(REPO_ROOT, 'dist/bin/multinet.js'),
      ...['install', '--type', 'thin', '--bin-dir', bin, '--cni-conf-dir', conf],
      ...['--kubeconfig', kubeconfig, '--cluster-network', primary],
    ]);
    assert.equal(code, 0, out);
    const [installed, built] = await Promise.all([readFile(join(bin, 'multinet')), readFile(shipped)]);
    assert.ok(installed.equals(built), 'the installed plugin is dist/multinet-bin, byte for byte');
  });

  test('install with --kubeconfig, then a pod gets eth0 and net1 through the installed plugin', async (t: TestContext) => {
    const topo = await NetnsTopology.create(t);
    t.after(await forwardApiIntoNetns(cp.server, topo.node, topo.tmpDir));
    const conf = join(topo.tmpDir, 'etc-cni-net.d');
    const bin = join(topo.tmpDir, 'opt-cni-bin');
    const own = join(topo.tmpDir, 'etc-cni-multinet');
    await mkdir(conf);
    await mkdir(own, { mode: 0o700 });
    const primary = join(conf, '10-podnet.conflist');
    await writeFile(primary, JSON.stringify(bridgeConf(topo, { subnet: '10.76.0.0/24', bridge: 'mnth0' })));
    const kubeconfig = await writeTokenKubeconfig(cp, own);
    // Step 5 as the page has it: the shipped plugin installs itself (the Bun executable of
    // build:thin-bin when built, which needs no Node.js on the node; else the bundle under node).
    const installable = THIN_PLUGIN[THIN_PLUGIN.length - 1]!;
    const { code, out } = await runCommand(THIN_PLUGIN[0]!, [
      ...THIN_PLUGIN.slice(1),
      ...['install', '--type', 'thin', '--source', installable, '--bin-dir', bin, '--cni-conf-dir', conf],
      ...['--kubeconfig', kubeconfig, '--cluster-network', primary],
    ]);
    assert.equal(code, 0, out);
    assert.deepEqual((await readdir(conf)).sort(), [
      '00-multinet.conflist',
      '10-podnet.conflist',
      'multinet.d',
    ]);

    await cp.client.create({
      apiVersion: 'k8s.cni.cncf.io/v1',
      kind: 'NetworkAttachmentDefinition',
      metadata: { namespace: 'default', name: 'lan' },
      spec: {
        config: JSON.stringify({
          cniVersion: '1.0.0',
          type: 'macvlan',
          master: 'ens1',
          ipam: { type: 'host-local', ranges: [[{ subnet: '10.77.0.0/24' }]], dataDir: topo.dataDir },
        }),
      },
    });
    const created = await cp.client.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        namespace: 'default',
        name: 'on-host',
        annotations: { 'k8s.v1.cni.cncf.io/networks': 'lan' },
      },
      spec: { containers: [{ name: 'c', image: 'example.invalid/none' }] },
    });
    // What the runtime hands the first plugin of the installed list; only cacheDir is changed,
    // so that the test does not write the machine's /var/lib/cni/multinet.
    const list = JSON.parse(await readFile(join(conf, '00-multinet.conflist'), 'utf8')) as {
      cniVersion: string;
      name: string;
      plugins: Record<string, unknown>[];
    };
    const config = {
      cniVersion: list.cniVersion,
      name: list.name,
      ...list.plugins[0],
      cacheDir: topo.cacheDir,
    };
    const podNs = await topo.addPod();
    const call = (command: 'ADD' | 'DEL') =>
      runCni(
        {
          command,
          containerId: 'ctr-host',
          netns: podNs.path,
          args: {
            IgnoreUnknown: '1',
            K8S_POD_NAMESPACE: 'default',
            K8S_POD_NAME: 'on-host',
            K8S_POD_UID: created.metadata!.uid!,
          },
          config,
        },
        {
          nodeNs: topo.node,
          hostLocalDir: join(topo.tmpDir, 'host-local'),
          // The installed file, run as the runtime runs it (the bundle needs node in front).
          plugin: [...THIN_PLUGIN.slice(0, -1), join(bin, 'multinet')],
        },
      );
    const add = await call('ADD');
    assert.equal(add.exitCode, 0, add.stdout + add.stderr);
    assert.match((await addressesOf(podNs.name, 'eth0'))[0] ?? '', /^10\.76\.0\.\d+\/24$/);
    assert.match((await addressesOf(podNs.name, 'net1'))[0] ?? '', /^10\.77\.0\.\d+\/24$/);
    const pod = await cp.client.get({ apiVersion: 'v1', kind: 'Pod', namespace: 'default', name: 'on-host' });
    const status = parseNetworkStatus(pod.metadata!.annotations!['k8s.v1.cni.cncf.io/network-status']!);
    assert.deepEqual(
      status.map((s) => s.interface),
      ['eth0', 'net1'],
    );
    const del = await call('DEL');
    assert.equal(del.exitCode, 0, del.stdout + del.stderr);
    assert.deepEqual(
      (await linksIn(podNs.name)).map((l) => l.ifname),
      ['lo'],
    );
    assert.deepEqual(await allocations(topo.dataDir, 'podnet'), []);
    assert.deepEqual(await allocations(topo.dataDir, 'lan'), []);
  });
});
