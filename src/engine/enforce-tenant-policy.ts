import type { AttachmentPlan } from './attachment-plan.ts';
import { configName } from './conf-source.ts';
import type { EngineDeps } from './engine-deps.ts';
import { EngineError, EngineErrorCode } from './engine-error.ts';
import type { ResolvedNetwork } from './plan-attachments.ts';
import type { NetworkResolver } from './resolve-networks.ts';
import type { PolicyViolation } from './tenant-policy-check.ts';
import { findPolicyViolation } from './tenant-policy-check.ts';

/**
 * CNI network names tenants may not reuse: the cluster network's, the defaultNetworks', every
 * file's in confDir and the policy's own list (the name keys host-local's pool and the caches).
 */
async function reservedNetworkNames(
  deps: Pick<EngineDeps, 'config' | 'confs'>,
  resolver: NetworkResolver,
): Promise<Set<string>> {
  const names = new Set(deps.config.tenantPolicy?.reservedNetworkNames ?? []);
  const admin = [
    await resolver.defaultNetwork(undefined).catch(() => undefined),
    ...(await resolver.configuredNetworks(undefined).catch(() => [])),
  ];
  for (const net of admin) {
    const name = net && configName(net.configText);
    if (name) names.add(name);
  }
  for (const file of await deps.confs.listConfFiles(deps.config.confDir).catch(() => [])) {
    const name = configName(file.content);
    if (name) names.add(name);
  }
  return names;
}

/** Every refusal of the tenant policy for a plan (the default network first, as attached). */
export async function tenantPolicyViolations(
  deps: Pick<EngineDeps, 'config' | 'confs'>,
  resolver: NetworkResolver,
  podNamespace: string | undefined,
  plan: AttachmentPlan,
  networks: ResolvedNetwork[],
): Promise<PolicyViolation[]> {
  const policy = deps.config.tenantPolicy;
  if (policy === undefined) return [];
  let reserved: Set<string> | undefined;
  const out: PolicyViolation[] = [];
  for (const [i, att] of plan.attachments.entries()) {
    const owner = networks[i]?.owner;
    reserved ??= owner !== undefined ? await reservedNetworkNames(deps, resolver) : undefined;
    const v = findPolicyViolation(
      policy,
      {
        network: att.network,
        owner,
        podNamespace,
        configText: att.configText,
        // The default network's capability args are the runtime's (kubelet's hostPorts), not the pod's.
        capabilityArgs: att.isDefault ? {} : att.capabilityArgs,
      },
      reserved ?? new Set(),
    );
    if (v) out.push(v);
  }
  return out;
}

/** ADD: refuse the pod before anything runs when the policy refuses one of its delegates. */
export async function enforceTenantPolicy(
  deps: Pick<EngineDeps, 'config' | 'confs'>,
  resolver: NetworkResolver,
  label: string,
  podNamespace: string | undefined,
  plan: AttachmentPlan,
  networks: ResolvedNetwork[],
): Promise<void> {
  const [first] = await tenantPolicyViolations(deps, resolver, podNamespace, plan, networks);
  if (!first) return;
  throw new EngineError({
    code: EngineErrorCode.PolicyForbidden,
    pod: label,
    network: first.network,
    reason: `the tenant policy refuses ${first.what}: ${first.rule}`,
    cniCode: 7,
  });
}
