import { readFileSync } from 'node:fs';
import type { ClusterView } from '../k8s/cluster-view.ts';
import { parseKubeconfig } from '../k8s/kubeconfig.ts';
import { KubeRestClient } from '../k8s/kube-rest-client.ts';
import { KubernetesClusterView } from '../k8s/kubernetes-cluster-view.ts';

/**
 * Runs `fn` against the API server of a kubeconfig (a command's read-only view of the live
 * cluster), then closes the connection. An exec credential plugin inherits the caller's
 * environment, as under kubectl.
 */
export async function withApiCluster<T>(
  kubeconfig: string,
  env: Record<string, string | undefined>,
  fn: (cluster: ClusterView, server: string, client: KubeRestClient) => Promise<T>,
): Promise<T> {
  const conn = parseKubeconfig(readFileSync(kubeconfig, 'utf8'), kubeconfig, (p) => readFileSync(p));
  if (conn.exec)
    conn.exec.baseEnv = Object.fromEntries(
      Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined),
    );
  const client = new KubeRestClient(conn, { timeoutMs: 30_000 });
  try {
    return await fn(new KubernetesClusterView(client, { component: 'multinet-cli' }), conn.server, client);
  } finally {
    client.close();
  }
}
