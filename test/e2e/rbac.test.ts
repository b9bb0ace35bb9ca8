// deploy/rbac/ against a real API server: SubjectAccessReview as multinet's ServiceAccount allows
// exactly what multinet needs and refuses the rest; the minted token behaves the same way.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MULTINET_SERVICE_ACCOUNT, startControlPlane, type ControlPlane } from '../support/control-plane.ts';
import { KubeApiError, type KubeObject } from '../support/kube-client.ts';

const { namespace: saNamespace, name: saName } = MULTINET_SERVICE_ACCOUNT;
const SA_USER = `system:serviceaccount:${saNamespace}:${saName}`;
const NS = 'rbac-test';

interface Access {
  verb: string;
  resource: string;
  group?: string;
  subresource?: string;
  /** Omitted: cluster-wide (all namespaces). */
  namespace?: string;
}

const ALLOWED: Access[] = [
  { verb: 'get', resource: 'pods', namespace: NS },
  { verb: 'list', resource: 'pods', namespace: NS },
  { verb: 'watch', resource: 'pods', namespace: NS },
  { verb: 'list', resource: 'pods' },
  { verb: 'watch', resource: 'pods' },
  { verb: 'patch', resource: 'pods', subresource: 'status', namespace: NS },
  { verb: 'get', resource: 'network-attachment-definitions', group: 'k8s.cni.cncf.io', namespace: NS },
  { verb: 'list', resource: 'network-attachment-definitions', group: 'k8s.cni.cncf.io' },
  { verb: 'watch', resource: 'network-attachment-definitions', group: 'k8s.cni.cncf.io' },
  { verb: 'get', resource: 'networks', group: 'kubernetes.cni.cncf.io', namespace: NS },
  { verb: 'list', resource: 'networks', group: 'kubernetes.cni.cncf.io' },
  { verb: 'create', resource: 'events', namespace: NS },
  { verb: 'get', resource: 'resourceclaims', group: 'resource.k8s.io', namespace: NS },
  { verb: 'list', resource: 'resourceclaims', group: 'resource.k8s.io' },
  { verb: 'watch', resource: 'resourceclaims', group: 'resource.k8s.io' },
  { verb: 'list', resource: 'resourceslices', group: 'resource.k8s.io' },
  { verb: 'watch', resource: 'resourceslices', group: 'resource.k8s.io' },
  {
    verb: 'patch',
    resource: 'resourceclaims',
    subresource: 'status',
    group: 'resource.k8s.io',
    namespace: NS,
  },
  {
    verb: 'associated-node:patch',
    resource: 'resourceclaims',
    subresource: 'driver',
    group: 'resource.k8s.io',
    namespace: NS,
  },
];

const REFUSED: Access[] = [
  { verb: 'get', resource: 'secrets', namespace: NS },
  { verb: 'list', resource: 'secrets' },
  { verb: 'get', resource: 'secrets', namespace: 'kube-system' },
  { verb: 'update', resource: 'pods' },
  { verb: 'update', resource: 'pods', namespace: NS },
  { verb: 'patch', resource: 'pods', namespace: NS },
  { verb: 'create', resource: 'pods', namespace: NS },
  { verb: 'delete', resource: 'pods', namespace: NS },
  { verb: 'update', resource: 'pods', subresource: 'status', namespace: NS },
  { verb: 'create', resource: 'pods', subresource: 'exec', namespace: NS },
  { verb: 'create', resource: 'network-attachment-definitions', group: 'k8s.cni.cncf.io', namespace: NS },
  { verb: 'update', resource: 'network-attachment-definitions', group: 'k8s.cni.cncf.io', namespace: NS },
  { verb: 'patch', resource: 'network-attachment-definitions', group: 'k8s.cni.cncf.io', namespace: NS },
  { verb: 'delete', resource: 'network-attachment-definitions', group: 'k8s.cni.cncf.io', namespace: NS },
  { verb: 'create', resource: 'networks', group: 'kubernetes.cni.cncf.io', namespace: NS },
  { verb: 'delete', resource: 'networks', group: 'kubernetes.cni.cncf.io', namespace: NS },
  { verb: 'delete', resource: 'events', namespace: NS },
  // Events are only created, never patched, and only through the core API (least privilege).
  { verb: 'patch', resource: 'events', namespace: NS },
  { verb: 'create', resource: 'events', group: 'events.k8s.io', namespace: NS },
  { verb: 'get', resource: 'configmaps', namespace: NS },
  { verb: 'create', resource: 'serviceaccounts', subresource: 'token', namespace: saNamespace },
  { verb: 'get', resource: 'clusterroles', group: 'rbac.authorization.k8s.io' },
  { verb: 'create', resource: 'clusterrolebindings', group: 'rbac.authorization.k8s.io' },
  { verb: 'create', resource: 'rolebindings', group: 'rbac.authorization.k8s.io', namespace: NS },
  { verb: 'escalate', resource: 'clusterroles', group: 'rbac.authorization.k8s.io' },
  { verb: 'bind', resource: 'clusterroles', group: 'rbac.authorization.k8s.io' },
  { verb: 'update', resource: 'nodes' },
  { verb: 'get', resource: 'customresourcedefinitions', group: 'apiextensions.k8s.io' },
  // DRA: reading claims, not writing them; only its own node's claims' status.devices.
  { verb: 'update', resource: 'resourceclaims', group: 'resource.k8s.io', namespace: NS },
  { verb: 'patch', resource: 'resourceclaims', group: 'resource.k8s.io', namespace: NS },
  { verb: 'delete', resource: 'resourceclaims', group: 'resource.k8s.io', namespace: NS },
  { verb: 'create', resource: 'resourceslices', group: 'resource.k8s.io' },
  {
    verb: 'arbitrary-node:patch',
    resource: 'resourceclaims',
    subresource: 'driver',
    group: 'resource.k8s.io',
    namespace: NS,
  },
  {
    verb: 'patch',
    resource: 'resourceclaims',
    subresource: 'binding',
    group: 'resource.k8s.io',
    namespace: NS,
  },
];

const describeAccess = (a: Access): string =>
  `${a.verb} ${a.group ? `${a.group}/` : ''}${a.resource}${a.subresource ? `/${a.subresource}` : ''} ${a.namespace ? `in ${a.namespace}` : 'cluster-wide'}`;

describe('multinet RBAC (deploy/rbac) against a real API server', () => {
  let cp: ControlPlane;

  before(async () => {
    cp = await startControlPlane();
    await cp.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  });
  after(async () => {
    await cp?.stop();
  });

  async function allowed(a: Access): Promise<boolean> {
    const review = await cp.client.create<KubeObject & { status: { allowed: boolean } }>({
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: {
        user: SA_USER,
        groups: ['system:serviceaccounts', `system:serviceaccounts:${saNamespace}`, 'system:authenticated'],
        resourceAttributes: {
          verb: a.verb,
          group: a.group ?? '',
          resource: a.resource,
          subresource: a.subresource ?? '',
          namespace: a.namespace ?? '',
        },
      },
    });
    return review.status.allowed;
  }

  test('SubjectAccessReview allows every verb multinet needs', async () => {
    const denied = [];
    for (const a of ALLOWED) if (!(await allowed(a))) denied.push(describeAccess(a));
    assert.deepEqual(denied, [], 'these should be allowed');
  });

  test('SubjectAccessReview refuses secrets, pod writes, NAD writes and RBAC', async () => {
    const granted = [];
    for (const a of REFUSED) if (await allowed(a)) granted.push(describeAccess(a));
    assert.deepEqual(granted, [], 'these should be refused');
  });

  test('the minted token reads a pod and patches its status, but gets 403 for secrets and pod writes', async () => {
    await cp.client.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'not-for-multinet', namespace: NS },
      stringData: { password: 'hunter2' },
    });
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p1', namespace: NS },
      spec: {
        automountServiceAccountToken: false,
        containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.6' }],
      },
    };
    await cp.client.create(pod);
    const mn = cp.multinetClient;
    const got = await mn.get({ apiVersion: 'v1', kind: 'Pod', namespace: NS, name: 'p1' });
    assert.equal(got.metadata?.name, 'p1');
    const status = await mn.patch(
      { apiVersion: 'v1', kind: 'Pod', namespace: NS, name: 'p1' },
      { metadata: { annotations: { 'k8s.v1.cni.cncf.io/network-status': '[]' } } },
      { subresource: 'status' },
    );
    assert.equal(status.metadata?.annotations?.['k8s.v1.cni.cncf.io/network-status'], '[]');

    const forbidden = async (what: string, fn: () => Promise<unknown>) => {
      await assert.rejects(fn, (err: unknown) => {
        assert.ok(err instanceof KubeApiError, `${what}: ${String(err)}`);
        assert.equal(err.status, 403, `${what}: ${err.message}`);
        assert.match(err.message, new RegExp(SA_USER.replace(/[.:]/g, '\\$&')));
        return true;
      });
    };
    await forbidden('get secret', () =>
      mn.get({ apiVersion: 'v1', kind: 'Secret', namespace: NS, name: 'not-for-multinet' }),
    );
    await forbidden('list secrets', () => mn.list({ apiVersion: 'v1', kind: 'Secret', namespace: NS }));
    await forbidden('patch pod', () =>
      mn.patch(
        { apiVersion: 'v1', kind: 'Pod', namespace: NS, name: 'p1' },
        { metadata: { labels: { a: 'b' } } },
      ),
    );
    await forbidden('delete pod', () =>
      mn.delete({ apiVersion: 'v1', kind: 'Pod', namespace: NS, name: 'p1' }),
    );
    await forbidden('create NAD', () =>
      mn.create({
        apiVersion: 'k8s.cni.cncf.io/v1',
        kind: 'NetworkAttachmentDefinition',
        metadata: { name: 'x', namespace: NS },
        spec: { config: '{}' },
      }),
    );
  });
});
