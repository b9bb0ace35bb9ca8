// Every manifest in deploy/ is accepted by a real API server: first a server-side dry run (schema,
// defaulting, admission), then for real. Variants that share names are applied one after another.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseManifestDocuments } from '../../src/local/manifest-documents.ts';
import { REPO_ROOT, startControlPlane, type ControlPlane } from '../support/control-plane.ts';
import { refOf, type KubeObject } from '../support/kube-client.ts';

async function manifests(dir: string): Promise<KubeObject[]> {
  const out: KubeObject[] = [];
  for (const f of (await readdir(join(REPO_ROOT, 'deploy', dir))).filter((n) => n.endsWith('.yaml')).sort())
    out.push(
      ...(parseManifestDocuments(
        await readFile(join(REPO_ROOT, 'deploy', dir, f), 'utf8'),
        f,
      ) as KubeObject[]),
    );
  return out;
}

describe('deploy/ manifests against a real kube-apiserver', () => {
  let cp: ControlPlane;
  before(async () => {
    cp = await startControlPlane();
  });
  after(async () => {
    await cp?.stop();
  });

  for (const dir of ['crds', 'rbac', 'policy', 'thick', 'thin', 'openshift', 'webhook']) {
    test(`deploy/${dir}: dry run, then apply`, async () => {
      const objs = await manifests(dir);
      assert.ok(objs.length > 0);
      for (const obj of objs) {
        const query = { fieldManager: 'multinet-tests', force: 'true' };
        await cp.client.patch(refOf(obj), obj, { type: 'apply', query: { ...query, dryRun: 'All' } });
        const applied = await cp.client.patch<KubeObject>(refOf(obj), obj, { type: 'apply', query });
        assert.equal(applied.metadata?.name, obj.metadata?.name);
      }
      // The DaemonSet variants share names: remove this one's workload objects before the next.
      // The webhook configuration goes too: its Service has no endpoints here.
      const removed = ['DaemonSet', 'ConfigMap', 'ValidatingWebhookConfiguration'];
      for (const obj of objs.filter((o) => removed.includes(o.kind ?? '')))
        await cp.client.delete(refOf(obj));
    });
  }
});

// docs/daemon.md, "Reaching the API server": without kube-proxy the Service VIP is unreachable
// from hostNetwork; every container that talks to the API reads the optional ConfigMap.
test('every DaemonSet container that reaches the API takes its address from multinet-api-endpoint', async () => {
  for (const dir of ['thick', 'thin', 'openshift']) {
    const sets = (await manifests(dir)).filter((o) => o.kind === 'DaemonSet');
    assert.ok(sets.length > 0, dir);
    for (const ds of sets) {
      const spec = (ds as { spec: { template: { spec: { hostNetwork?: boolean; containers: unknown[] } } } })
        .spec.template.spec;
      assert.equal(spec.hostNetwork, true);
      for (const c of spec.containers as { name: string; envFrom?: unknown[] }[])
        assert.deepEqual(
          c.envFrom,
          [{ configMapRef: { name: 'multinet-api-endpoint', optional: true } }],
          `${dir}: ${c.name}`,
        );
    }
  }
});
