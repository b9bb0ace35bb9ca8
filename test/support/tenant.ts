/**
 * A tenant as on a shared cluster: a ServiceAccount whose Role allows only pods and
 * NetworkAttachmentDefinitions in its own namespace (what a namespace admin commonly has), and a
 * client that authenticates with its token. Everything a tenant creates goes through it, so the
 * API server's RBAC, not the test, decides what the tenant could write.
 */
import type { ControlPlane } from './control-plane.ts';
import { isStatus, type KubeClient, type KubeObject } from './kube-client.ts';

export const TENANT_ACCOUNT = 'tenant';

async function ensure(client: KubeClient, obj: KubeObject): Promise<void> {
  try {
    await client.create(obj);
  } catch (err) {
    if (!isStatus(err, 409)) throw err;
  }
}

export async function createTenant(cp: ControlPlane, namespace: string): Promise<KubeClient> {
  const admin = cp.client;
  await ensure(admin, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  await ensure(admin, {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { namespace, name: TENANT_ACCOUNT },
  });
  await ensure(admin, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { namespace, name: 'tenant' },
    rules: [
      { apiGroups: [''], resources: ['pods'], verbs: ['create', 'get', 'list', 'watch', 'delete'] },
      {
        apiGroups: ['k8s.cni.cncf.io'],
        resources: ['network-attachment-definitions'],
        verbs: ['create', 'get', 'list', 'watch', 'update', 'delete'],
      },
    ],
  } as KubeObject);
  await ensure(admin, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { namespace, name: 'tenant' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'tenant' },
    subjects: [{ kind: 'ServiceAccount', name: TENANT_ACCOUNT, namespace }],
  } as KubeObject);
  const res = await admin.create<KubeObject & { status: { token: string } }>(
    { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } },
    {
      ref: { apiVersion: 'v1', kind: 'ServiceAccount', namespace, name: TENANT_ACCOUNT },
      subresource: 'token',
    },
  );
  return admin.withToken(res.status.token);
}

/** A NAD as the tenant writes it (cniVersion and name filled in). */
export function tenantNad(namespace: string, name: string, config: Record<string, unknown>): KubeObject {
  return {
    apiVersion: 'k8s.cni.cncf.io/v1',
    kind: 'NetworkAttachmentDefinition',
    metadata: { namespace, name },
    spec: { config: JSON.stringify({ cniVersion: '1.0.0', name, ...config }) },
  };
}
