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
