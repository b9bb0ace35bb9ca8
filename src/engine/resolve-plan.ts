import type { PodInfo } from '../k8s/cluster-view.ts';
import type { AttachmentPlan } from './attachment-plan.ts';
import { planForRequest } from './plan-attachments.ts';
import type { ResolvedNetwork } from './plan-attachments.ts';
import type { PodIdentity } from './pod-identity.ts';
import type { NetworkResolver } from './resolve-networks.ts';

/** What of a CNI request the plan depends on. */
export type PlanRequest = Parameters<typeof planForRequest>[0];

/**
 * The one "resolve and plan" of ADD, of DEL's rebuild from the API and of `multinet explain`:
 * the default network (the pod's default-network annotation, else the cluster network), the
 * configured defaultNetworks of the namespace, the networks the pod selects, then the plan.
 * Whatever ADD refuses here (an unknown network, an interface name taken twice) explain refuses
 * in the same words. `defaultNetwork` stands in for the default network when the caller has
 * none to resolve (explain without --default-network).
 */
export async function resolveAndPlan(
  resolver: NetworkResolver,
  req: PlanRequest,
  podRef: PodIdentity | undefined,
  pod: PodInfo | undefined,
  namespace: string | undefined,
  defaultNetwork?: ResolvedNetwork,
): Promise<{ plan: AttachmentPlan; networks: ResolvedNetwork[] }> {
  const first = defaultNetwork ?? (await resolver.defaultNetwork(pod));
  const additional = [
    ...(await resolver.configuredNetworks(namespace)),
    ...(pod ? await resolver.selectedNetworks(pod, req.ifName) : []),
  ];
  return { plan: planForRequest(req, podRef, first, additional), networks: [first, ...additional] };
}
