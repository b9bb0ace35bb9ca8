/**
 * `kubectl multinet ...`: kubectl from tools/bin finds `kubectl-multinet` (installed by
 * `multinet install --kubectl-plugin DIR` from the built bundle) on PATH and runs it with the
 * caller's environment; `status` reads the real kube-apiserver with the caller's kubeconfig
 * ($KUBECONFIG, else ~/.kube/config, as kubectl itself).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { REPO_ROOT, startControlPlane, type ControlPlane } from '../support/control-plane.ts';
import { buildThinPlugin } from '../support/fault-scene.ts';

const KUBECTL = join(REPO_ROOT, 'tools/bin/kubectl');
const SKIP = existsSync(KUBECTL) ? false : `${KUBECTL} is not built (bash scripts/setup.sh builds it)`;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function macvlanNad(master: string) {
  return {
    apiVersion: 'k8s.cni.cncf.io/v1',
    kind: 'NetworkAttachmentDefinition',
    metadata: { name: 'net-a', namespace: 'default' },
    spec: {
      config: JSON.stringify({
        cniVersion: '1.0.0',
        name: 'net-a',
        type: 'macvlan',
        master,
        ipam: { type: 'host-local', subnet: '10.77.0.0/24' },
      }),
    },
  };
}

interface Explained {
  attachments: {
    interface: string;
    network: string;
    default: boolean;
    config: Record<string, unknown>[] | null;
  }[];
}

function run(cmd: string, args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: REPO_ROOT, env, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('kubectl multinet (kubectl plugin) against a real kube-apiserver', { skip: SKIP }, () => {
  let cp: ControlPlane;
  let dir: string;
  let bin: string;
  let home: string;
  let basePath: string;
  before(async () => {
    cp = await startControlPlane();
    dir = await mkdtemp(join(tmpdir(), 'mn-kubectl-plugin-'));
    bin = join(dir, 'bin');
    home = join(dir, 'home');
    basePath = `${dirname(process.execPath)}:/usr/bin:/bin`;
    await mkdir(join(home, '.kube'), { recursive: true });
    await copyFile(cp.adminKubeconfig, join(home, '.kube', 'config'));
    const installed = await run(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/bin/multinet.ts',
        'install',
        '--kubectl-plugin',
        bin,
        '--source',
        buildThinPlugin()[1]!,
      ],
      { PATH: basePath, HOME: home },
    );
    assert.equal(installed.code, 0, installed.stderr);
    await cp.client.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'plugpod',
        namespace: 'default',
        annotations: {
          'k8s.v1.cni.cncf.io/networks': 'net-a,net-b',
          'k8s.v1.cni.cncf.io/network-status': JSON.stringify([
            { name: 'default/net-a', interface: 'net1', ips: ['192.0.2.7'], mac: '02:00:00:00:00:07' },
          ]),
        },
      },
      spec: {
        automountServiceAccountToken: false,
        containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.6' }],
      },
    });
    await cp.client.create(macvlanNad('ens1'));
    await cp.client.create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'explainpod',
        namespace: 'default',
        annotations: { 'k8s.v1.cni.cncf.io/networks': '[{"name": "net-a", "interface": "data0"}]' },
      },
      spec: {
        automountServiceAccountToken: false,
        containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.6' }],
      },
    });
  });
  after(async () => {
    await cp?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const kubectl = (args: string[], env: Record<string, string> = {}) =>
    run(KUBECTL, args, { PATH: `${bin}:${basePath}`, HOME: home, ...env });

  test('install --kubectl-plugin puts an executable kubectl-multinet that kubectl finds', async () => {
    assert.equal((await stat(join(bin, 'kubectl-multinet'))).mode & 0o111, 0o111);
    const list = await kubectl(['plugin', 'list']);
    assert.match(list.stdout, /kubectl-multinet/, `${list.stdout}${list.stderr}`);
  });

  for (const [how, env] of [
    [
      '$KUBECONFIG',
      (): Record<string, string> => ({ KUBECONFIG: `/nonexistent/config:${cp.adminKubeconfig}` }),
    ],
    ['~/.kube/config', (): Record<string, string> => ({})],
  ] as const)
    test(`kubectl multinet status reads the cluster with the caller's kubeconfig (${how})`, async () => {
      const out = await kubectl(['multinet', 'status', '-o', 'json'], env());
      assert.equal(out.code, 0, out.stderr);
      const pods = (
        JSON.parse(out.stdout) as {
          pods: { pod: string; attachments: { network: string }[]; missing: string[] }[];
        }
      ).pods;
      const pod = pods.find((p) => p.pod === 'default/plugpod');
      assert.ok(pod, out.stdout);
      assert.deepEqual(
        pod.attachments.map((a) => a.network),
        ['default/net-a'],
      );
      assert.equal(pod.missing.length, 1, out.stdout);
      assert.match(pod.missing[0]!, /net-b/);
    });

  test('kubectl multinet status with no kubeconfig anywhere says what to give', async () => {
    const out = await kubectl(['multinet', 'status'], { HOME: join(dir, 'empty-home') });
    assert.equal(out.code, 1, out.stdout);
    assert.match(out.stderr, /give --kubeconfig FILE/);
  });

  test('kubectl multinet explain NAMESPACE/POD plans against the live pod and its NADs, as they are now', async () => {
    const first = await kubectl(['multinet', 'explain', 'default/explainpod', '-o', 'json']);
    assert.equal(first.code, 0, first.stderr);
    const plan = (JSON.parse(first.stdout) as Explained).attachments;
    assert.deepEqual(
      plan.map((a) => [a.interface, a.network, a.default]),
      [
        ['eth0', '(cluster default network)', true],
        ['data0', 'default/net-a', false],
      ],
    );
    const [delegate] = plan[1]!.config!;
    assert.equal(delegate!['type'], 'macvlan');
    assert.equal(delegate!['master'], 'ens1');
    assert.equal(delegate!['name'], 'net-a');
    // The NAD changes in the API: the next explain shows what ADD would run now.
    const current = await cp.client.get({
      apiVersion: 'k8s.cni.cncf.io/v1',
      kind: 'NetworkAttachmentDefinition',
      namespace: 'default',
      name: 'net-a',
    });
    await cp.client.update({ ...macvlanNad('ens9'), metadata: current.metadata });
    const again = await kubectl(['multinet', 'explain', '--pod', 'default/explainpod', '-o', 'json']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal((JSON.parse(again.stdout) as Explained).attachments[1]!.config![0]!['master'], 'ens9');
    // multinet itself, with the kubeconfig given: the table and each delegate's stdin.
    const direct = await run(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/bin/multinet.ts',
        'explain',
        'default/explainpod',
        '--kubeconfig',
        cp.adminKubeconfig,
      ],
      { PATH: basePath, HOME: join(dir, 'empty-home') },
    );
    assert.equal(direct.code, 0, direct.stderr);
    assert.match(direct.stdout, /^data0 +default\/net-a +no +macvlan$/m);
    assert.match(direct.stdout, /"master": "ens9"/);
  });

  test('kubectl multinet explain NAMESPACE/POD: a missing pod or network is named; no kubeconfig says what to give', async () => {
    const missingPod = await kubectl(['multinet', 'explain', 'default/nosuchpod']);
    assert.equal(missingPod.code, 1, missingPod.stdout);
    assert.ok(
      missingPod.stderr.includes(`pod default/nosuchpod not found in the API server ${cp.server}`),
      missingPod.stderr,
    );
    // plugpod asks for net-b, which does not exist.
    const missingNad = await kubectl(['multinet', 'explain', 'default/plugpod']);
    assert.equal(missingNad.code, 1, missingNad.stdout);
    assert.match(
      missingNad.stderr,
      /pod default\/plugpod, network default\/net-b: NetworkAttachmentDefinition default\/net-b not found/,
    );
    const noConfig = await kubectl(['multinet', 'explain', 'default/explainpod'], {
      HOME: join(dir, 'empty-home'),
    });
    assert.equal(noConfig.code, 1, noConfig.stdout);
    assert.match(noConfig.stderr, /names a pod in the API server: give --kubeconfig FILE/);
  });

  test('kubectl multinet validate and explain run offline; other commands are refused', async () => {
    const nad = join(dir, 'bad-nad.yaml');
    await writeFile(
      nad,
      [
        'apiVersion: k8s.cni.cncf.io/v1',
        'kind: NetworkAttachmentDefinition',
        'metadata: {name: broken, namespace: default}',
        'spec: {config: "{not json"}',
        '',
      ].join('\n'),
    );
    const bad = await kubectl(['multinet', 'validate', nad]);
    assert.equal(bad.code, 1, `${bad.stdout}${bad.stderr}`);
    assert.match(`${bad.stdout}${bad.stderr}`, /broken/);
    const help = await kubectl(['multinet', 'explain', '--help']);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /usage: multinet explain/);
    for (const refused of [
      ['install', '--type', 'thin', '--bin-dir', join(dir, 'x')],
      ['daemon'],
      ['demo'],
    ]) {
      const out = await kubectl(['multinet', ...refused]);
      assert.equal(out.code, 2, `${refused[0]}: ${out.stdout}${out.stderr}`);
      assert.match(out.stderr, /unknown command/);
    }
    assert.equal(existsSync(join(dir, 'x')), false, 'install did not run');
  });
});
