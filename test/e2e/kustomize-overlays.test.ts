/**
 * `kubectl apply -k deploy/kustomize/{thick,thin,openshift}` with the kubectl (and its built-in
 * kustomize) from tools/bin: each overlay renders exactly deploy/'s objects for that variant (no
 * copies to drift), is applied by kubectl itself to a real kube-apiserver (server-side dry run,
 * then for real), and the per-directory `Kustomization` files do not break
 * `kubectl apply -f deploy/<dir>/`.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseManifestDocuments } from '../../src/local/manifest-documents.ts';
import { REPO_ROOT, startControlPlane, type ControlPlane } from '../support/control-plane.ts';
import { refOf, type KubeObject } from '../support/kube-client.ts';

const KUBECTL = join(REPO_ROOT, 'tools/bin/kubectl');
const SKIP = existsSync(KUBECTL) ? false : `${KUBECTL} is not built (bash scripts/setup.sh builds it)`;
const VARIANTS = ['thick', 'thin', 'openshift'] as const;

function kubectl(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(KUBECTL, args, { cwd: REPO_ROOT, timeout: 60_000, maxBuffer: 1 << 24 }, (err, stdout, stderr) =>
      err ? reject(new Error(`kubectl ${args.join(' ')}: ${stderr.trim() || err.message}`)) : resolve(stdout),
    );
  });
}

/** The objects of deploy/<dir>/*.yaml, as `kubectl apply -f deploy/<dir>/` reads them. */
async function deployObjects(dir: string): Promise<KubeObject[]> {
  const path = join(REPO_ROOT, 'deploy', dir);
  const out: KubeObject[] = [];
  for (const f of (await readdir(path)).filter((n) => /\.ya?ml$/.test(n)).sort())
    out.push(...(parseManifestDocuments(await readFile(join(path, f), 'utf8'), f) as KubeObject[]));
  return out;
}

const key = (o: KubeObject) => `${o.kind} ${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
const byKey = (objs: KubeObject[]) => new Map(objs.map((o) => [key(o), o]));

describe('kustomize overlays (deploy/kustomize) against a real kube-apiserver', { skip: SKIP }, () => {
  let cp: ControlPlane;
  before(async () => {
    cp = await startControlPlane();
  });
  after(async () => {
    await cp?.stop();
  });

  for (const variant of VARIANTS) {
    test(`deploy/kustomize/${variant}: renders deploy/'s objects; kubectl apply -k applies them`, async () => {
      const overlay = join('deploy/kustomize', variant);
      const rendered = parseManifestDocuments(
        await kubectl(['kustomize', overlay]),
        `kubectl kustomize ${overlay}`,
      ) as KubeObject[];
      const expected = [
        ...(await deployObjects('crds')),
        ...(await deployObjects('rbac')),
        ...(await deployObjects(variant)),
      ];
      assert.ok(
        expected.some((o) => o.kind === 'DaemonSet'),
        `deploy/${variant} has a DaemonSet`,
      );
      assert.equal(rendered.length, expected.length, [...byKey(rendered).keys()].join(', '));
      assert.deepEqual(byKey(rendered), byKey(expected));

      const kubeconfig = `--kubeconfig=${cp.adminKubeconfig}`;
      const apply = ['apply', kubeconfig, '-k', overlay, '--server-side', '--field-manager=multinet-tests'];
      await kubectl([...apply, '--dry-run=server']);
      await kubectl(apply);
      for (const obj of expected) {
        const live = await cp.client.get(refOf(obj));
        assert.equal(live.metadata?.uid !== undefined, true, `${key(obj)} exists`);
        if (obj.kind === 'ConfigMap')
          assert.deepEqual((live as { data?: unknown }).data, (obj as { data?: unknown }).data, key(obj));
        if (obj.kind === 'DaemonSet') {
          const images = (o: KubeObject) =>
            (
              o as { spec: { template: { spec: { containers: { image: string }[] } } } }
            ).spec.template.spec.containers.map((c) => c.image);
          assert.deepEqual(images(live), images(obj), key(obj));
        }
      }
      // thick and openshift share names: remove this variant's workload objects before the next.
      for (const obj of expected.filter((o) => o.kind === 'DaemonSet' || o.kind === 'ConfigMap'))
        await cp.client.delete(refOf(obj));
    });
  }

  test('README: an overlay of your own sets the image with images:', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mn-kustomize-'));
    try {
      await writeFile(
        join(dir, 'kustomization.yaml'),
        [
          'apiVersion: kustomize.config.k8s.io/v1beta1',
          'kind: Kustomization',
          'resources:',
          `  - ${relative(dir, join(REPO_ROOT, 'deploy/kustomize/thick'))}`,
          'images:',
          '  - name: ghcr.io/multinet/multinet',
          '    newName: registry.example/multinet',
          '    newTag: 0.1.0-test',
          '',
        ].join('\n'),
      );
      const objs = parseManifestDocuments(await kubectl(['kustomize', dir]), dir) as KubeObject[];
      const ds = objs.find((o) => o.kind === 'DaemonSet') as
        | {
            spec: {
              template: { spec: { containers: { image: string }[]; initContainers?: { image: string }[] } };
            };
          }
        | undefined;
      const images = [
        ...(ds?.spec.template.spec.initContainers ?? []),
        ...(ds?.spec.template.spec.containers ?? []),
      ].map((c) => c.image);
      assert.ok(images.length > 0);
      assert.deepEqual(new Set(images), new Set(['registry.example/multinet:0.1.0-test']));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('kubectl apply -f deploy/<dir>/ ignores the extensionless Kustomization files', async () => {
    const dirs = ['crds', 'rbac', ...VARIANTS];
    for (const dir of dirs) assert.ok(existsSync(join(REPO_ROOT, 'deploy', dir, 'Kustomization')), dir);
    for (const variant of VARIANTS) {
      const out = await kubectl([
        'apply',
        `--kubeconfig=${cp.adminKubeconfig}`,
        ...['-f', 'deploy/crds/', '-f', 'deploy/rbac/', '-f', `deploy/${variant}/`],
        '--server-side',
        '--dry-run=server',
        '--field-manager=multinet-tests',
      ]);
      // One line per object of those directories, and none for a Kustomization.
      const lines = out.trim().split('\n');
      const count = (await Promise.all(['crds', 'rbac', variant].map(deployObjects))).flat().length;
      assert.equal(lines.length, count, out);
      assert.doesNotMatch(out, /kustomiz/i, out);
    }
  });
});
