import { dns1123LabelProblem, dns1123SubdomainProblem } from '../spec/dns-1123.ts';

/**
 * The pod a CNI call is for, from the Kubernetes keys in CNI_ARGS (CNI CONVENTIONS: runtimes send
 * `K8S_POD_NAMESPACE`, `K8S_POD_NAME`, `K8S_POD_INFRA_CONTAINER_ID` and, newer ones, `K8S_POD_UID`).
 */
export interface PodIdentity {
  namespace: string;
  name: string;
  uid: string;
}

export function podIdentityFromArgs(args: readonly (readonly [string, string])[]): PodIdentity | undefined {
  const get = (k: string) => args.find(([key]) => key === k)?.[1] ?? '';
  const namespace = get('K8S_POD_NAMESPACE');
  const name = get('K8S_POD_NAME');
  if (namespace === '' || name === '') return undefined;
  return { namespace, name, uid: get('K8S_POD_UID') };
}

export function podLabel(pod: PodIdentity | undefined, containerId: string): string {
  return pod ? `${pod.namespace}/${pod.name}` : `container ${containerId}`;
}

/**
 * Why K8S_POD_NAMESPACE / K8S_POD_NAME cannot name a Kubernetes pod (a namespace is a DNS-1123
 * label, a pod name a DNS-1123 subdomain), or undefined. They end up in API paths and in local
 * mode's status file names, so `../../x` must never get that far.
 */
export function podIdentityProblem(args: readonly (readonly [string, string])[]): string | undefined {
  const id = podIdentityFromArgs(args);
  if (!id) return undefined;
  const ns = dns1123LabelProblem(id.namespace);
  if (ns) return `K8S_POD_NAMESPACE ${JSON.stringify(id.namespace.slice(0, 80))} is ${ns}`;
  const name = dns1123SubdomainProblem(id.name);
  if (name) return `K8S_POD_NAME ${JSON.stringify(id.name.slice(0, 260))} is ${name}`;
  return undefined;
}
