import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { parseKubeconfig } from '../k8s/kubeconfig.ts';
import { apiErrorMessage, KubeRestClient } from '../k8s/kube-rest-client.ts';
import { toPodInfo } from '../k8s/kubernetes-cluster-view.ts';
import { DirectoryClusterView, statusFileOf } from '../local/directory-cluster-view.ts';
import type { PodNetworkSource } from './status-command.ts';

/** Pods with their annotations (and local status files) from the API server or a local manifest dir. */
export async function readPodNetworkSources(
  from: { kubeconfig?: string; local?: string },
  only?: string,
): Promise<PodNetworkSource[]> {
  const [ns, name] = only ? only.split('/') : [];
  if (from.local) {
    const view = new DirectoryClusterView(from.local, (file, reason) => {
      throw new Error(`${file}: ${reason}`);
    });
    await view.reload();
    const pods = view.podList().filter((p) => !only || (p.namespace === ns && p.name === name));
    return Promise.all(
      pods.map(async (p) => ({
        ...p,
        statusText: await readFile(statusFileOf(from.local!, p), 'utf8').catch(() => undefined),
      })),
    );
  }
  if (!from.kubeconfig) throw new Error('give --kubeconfig FILE (or set KUBECONFIG) or --local DIR');
  const path = from.kubeconfig;
  const client = new KubeRestClient(
    parseKubeconfig(readFileSync(path, 'utf8'), path, (p) => readFileSync(p)),
  );
  try {
    const url = only
      ? `/api/v1/namespaces/${encodeURIComponent(ns!)}/pods/${encodeURIComponent(name!)}`
      : '/api/v1/pods';
    const res = await client.request('GET', url);
    if (res.status !== 200) throw new Error(`GET ${url}: ${apiErrorMessage(res)}`);
    const body = JSON.parse(res.body) as { items?: Record<string, unknown>[] } & Record<string, unknown>;
    return (only ? [body] : (body.items ?? [])).map(toPodInfo);
  } finally {
    client.close();
  }
}
