// deploy/policy/: multinet's identity, with a token bound to its DaemonSet pod on one node, may
// patch the status of pods on that node and is refused for pods on other nodes.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseManifestDocuments } from '../../src/local/manifest-documents.ts';
import { REPO_ROOT, startControlPlane, type ControlPlane } from '../support/control-plane.ts';
import { KubeApiError, refOf, type KubeObject } from '../support/kube-client.ts';

const node = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Node', metadata: { name } });
const pod = (namespace: string, name: string, nodeName: string, sa?: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { namespace, name },
  spec: {
    nodeName,
    ...(sa ? { serviceAccountName: sa } : {}),
    automountServiceAccountToken: false,
    containers: [{ name: 'c', image: 'example.invalid/none' }],
  },
});

describe('deploy/policy: multinet writes pod status only on its own node', () => {
  let cp: ControlPlane;
  before(async () => {
    cp = await startControlPlane();
    const text = await readFile(join(REPO_ROOT, 'deploy/policy/own-node-status.yaml'), 'utf8');
    for (const obj of parseManifestDocuments(text, 'own-node-status.yaml') as KubeObject[])
      await cp.client.patch(refOf(obj), obj, {
        type: 'apply',
        query: { fieldManager: 'multinet-tests', force: 'true' },
      });
  });
  after(async () => {
    await cp?.stop();
  });

  test('a token bound to the node-a daemon pod: node-a pods yes, node-b pods no, unbound token no', async () => {
    const c = cp.client;
    for (const n of ['node-a', 'node-b']) await c.create(node(n));
    await c.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'apps' } });
    const daemonPod = await c.create(pod('kube-system', 'multinet-node-a', 'node-a', 'multinet'));
    await c.create(pod('apps', 'on-a', 'node-a'));
    await c.create(pod('apps', 'on-b', 'node-b'));
    const tr = await c.create<KubeObject & { status: { token: string } }>(
      {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: {
          expirationSeconds: 3600,
          boundObjectRef: {
            apiVersion: 'v1',
            kind: 'Pod',
            name: 'multinet-node-a',
            uid: daemonPod.metadata!.uid,
          },
        },
      },
      {
        ref: { apiVersion: 'v1', kind: 'ServiceAccount', namespace: 'kube-system', name: 'multinet' },
        subresource: 'token',
      },
    );
    const bound = c.withToken(tr.status.token);
    const patchStatus = (client: typeof c, name: string) =>
      client.patch(
        { apiVersion: 'v1', kind: 'Pod', namespace: 'apps', name },
        { metadata: { annotations: { 'k8s.v1.cni.cncf.io/network-status': '[]' } } },
        { subresource: 'status', type: 'merge' },
      );
    try {
      // Admission policies take effect once the API server's policy cache has them: wait until the
      // harness's token, which is not bound to a pod (no node claim), is refused.
      for (let i = 0; ; i++) {
        const refused = await patchStatus(cp.multinetClient, 'on-a').then(
          () => false,
          (err: unknown) => err instanceof KubeApiError && /own node/.test(err.message),
        );
        if (refused) break;
        assert.ok(i < 100, 'the policy never took effect');
        await new Promise((r) => setTimeout(r, 100));
      }
      await patchStatus(bound, 'on-a');
      await assert.rejects(patchStatus(bound, 'on-b'), (err: unknown) => {
        assert.ok(err instanceof KubeApiError);
        assert.match(err.message, /only write the status of pods on its own node; pod on-b is on node-b/);
        return true;
      });
    } finally {
      bound.close();
    }
  });
});
