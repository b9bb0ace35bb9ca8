/**
 * Installs multinet on a test cluster the way a user does (README "Deploy on a cluster"):
 * `kubectl apply -f` of deploy/crds, deploy/rbac, deploy/policy and deploy/thick, unedited, with
 * the image built from the repository (imported into every node under the DaemonSet's own image
 * name). This cluster has no kube-proxy, so the `kubernetes` Service VIP leads nowhere: as
 * docs/daemon.md ("Reaching the API server") tells such a cluster's users, the optional
 * ConfigMap `multinet-api-endpoint` gives the daemon the API server's address.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster } from './cluster.ts';
import { REPO_ROOT } from './control-plane.ts';

export const MULTINET_NAMESPACE = 'kube-system';
export const MULTINET_SELECTOR = 'app.kubernetes.io/name=multinet';

/** `kubectl create configmap multinet-api-endpoint` with the cluster's API address (idempotent). */
export async function ensureApiEndpointConfigMap(cluster: Cluster): Promise<void> {
  const manifest = await cluster.kubectl([
    'create',
    'configmap',
    'multinet-api-endpoint',
    '-n',
    MULTINET_NAMESPACE,
    `--from-literal=KUBERNETES_SERVICE_HOST=${cluster.apiHost}`,
    `--from-literal=KUBERNETES_SERVICE_PORT=${cluster.apiPort}`,
    '--dry-run=client',
    '-o',
    'json',
  ]);
  await cluster.kubectl(['apply', '-f', '-'], { input: manifest });
}

/** The thick DaemonSet, Ready on every node, with 00-multinet.conflist written on each. */
export async function installThick(cluster: Cluster, timeoutMs = 180_000): Promise<void> {
  await ensureApiEndpointConfigMap(cluster);
  const dirs = ['crds', 'rbac', 'policy', 'thick'].flatMap((d) => ['-f', join(REPO_ROOT, 'deploy', d)]);
  await cluster.kubectl(['apply', ...dirs]);
  await cluster.kubectl(
    [
      'rollout',
      'status',
      'daemonset/multinet',
      '-n',
      MULTINET_NAMESPACE,
      `--timeout=${Math.round(timeoutMs / 1000)}s`,
    ],
    { timeoutMs: timeoutMs + 10_000 },
  );
  const deadline = Date.now() + 60_000;
  for (const node of cluster.nodes) {
    const conf = join(node.hostPath('/etc/cni/net.d'), '00-multinet.conflist');
    while (!existsSync(conf)) {
      if (Date.now() > deadline) throw new Error(`${node.name}: multinet wrote no ${conf}`);
      await sleep(200);
    }
  }
}

/** The multinet daemon pod on a node. */
export async function multinetPodOn(cluster: Cluster, node: string): Promise<string> {
  const out = await cluster.kubectl([
    'get',
    'pods',
    '-n',
    MULTINET_NAMESPACE,
    '-l',
    MULTINET_SELECTOR,
    '--field-selector',
    `spec.nodeName=${node}`,
    '-o',
    'jsonpath={.items[0].metadata.name}',
  ]);
  if (!out) throw new Error(`no multinet pod on ${node}`);
  return out;
}
