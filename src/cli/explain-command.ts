import { defaultRoutesIn, strayDefaultRouteWarning } from '../cni/default-routes.ts';
import { parseNetworkConfig } from '../cni/network-config.ts';
import { buildPluginRequestConfig } from '../cni/plugin-config-request.ts';
import { selectVersion } from '../cni/versions.ts';
import { parseMultinetConfig } from '../config/multinet-config.ts';
import type { ConfSource } from '../engine/conf-source.ts';
import { assignDevices } from '../engine/assign-devices.ts';
import type { AttachmentPlan, PlannedAttachment } from '../engine/attachment-plan.ts';
import { EngineError } from '../engine/engine-error.ts';
import type { EngineDeps } from '../engine/engine-deps.ts';
import { tenantPolicyViolations } from '../engine/enforce-tenant-policy.ts';
import { resolveAndPlan } from '../engine/resolve-plan.ts';
import type { ResolvedNetwork } from '../engine/plan-attachments.ts';
import { NetworkResolver } from '../engine/resolve-networks.ts';
import type { ClusterView, PodInfo } from '../k8s/cluster-view.ts';
import { DraDeviceIndex } from '../k8s/dra.ts';
import type { DraSources } from '../k8s/dra.ts';
import type { PodDevices, PodResourcesReader } from '../k8s/pod-resources.ts';
import { ManifestClusterView } from '../local/manifest-cluster-view.ts';
import { objectRef } from '../local/manifest-documents.ts';

export interface ExplainedAttachment {
  network: string;
  interface: string;
  default: boolean;
  /** What each plugin of the delegate's chain receives on stdin, in order (prevResult is added at run time). */
  config: Record<string, unknown>[] | null;
  /** Set when this additional network would install a default route the pod did not ask for. */
  warning?: string;
  /** What the tenant policy would refuse in this attachment (ADD would fail the pod on it). */
  refused?: string;
  /** The device resource the NAD names (`k8s.v1.cni.cncf.io/resourceName`). */
  resource?: string;
  /** The device this attachment would get (its `deviceID`), and where it was allocated. */
  device?: { id: string; from: string };
  /** Why the device is not known here, when the NAD names a resource. */
  deviceUnknown?: string;
}

export interface ExplainOptions {
  /** A CNI config file path, a NAD reference, or undefined (the default network is then only named). */
  defaultNetwork?: string;
  runtimeIfName?: string;
  confs: ConfSource;
  options?: Record<string, unknown>;
  /**
   * The DRA claims and ResourceSlices to read the pod's devices from (docs/devices.md): from the
   * manifests, or read once from the API server for the pod's node. Without it, no DRA devices.
   */
  draSources?: (pod: PodInfo) => Promise<DraSources | undefined>;
  /** The kubelet's PodResources API of the pod's node (`--pod-resources`): device-plugin devices. */
  podResources?: PodResourcesReader;
}

export interface ExplainInput extends ExplainOptions {
  pod: Record<string, unknown>;
  objects: Record<string, unknown>[];
}

const PLACEHOLDER: ResolvedNetwork = { network: '(cluster default network)', configText: '' };

/** The plan for a Pod manifest against NAD manifests (offline). */
export async function explainPod(input: ExplainInput): Promise<ExplainedAttachment[]> {
  const cluster = new ManifestClusterView([...input.objects, input.pod]);
  const ref = objectRef(input.pod);
  if (ref.kind !== 'Pod') throw new Error('--pod must be a Pod manifest');
  return explainClusterPod(cluster, ref, input);
}

/**
 * The ordered plan for one pod, computed exactly as ADD would (same resolver, same planner, same
 * injection) but without running anything, with the pod and its networks read through `cluster`:
 * manifests, or the live API server (the plan ADD would run now). Throws the engine's errors for
 * invalid input, and names the pod when `cluster` does not have it.
 */
export async function explainClusterPod(
  cluster: ClusterView,
  ref: { namespace: string; name: string },
  input: ExplainOptions,
  where = 'the manifests',
): Promise<ExplainedAttachment[]> {
  const pod = await cluster.getPod(ref.namespace, ref.name);
  if (!pod) throw new Error(`pod ${ref.namespace}/${ref.name} not found in ${where}`);
  const { engine } = parseMultinetConfig(input.options ?? {}, { requireDefaultNetwork: false });
  // The config's own default network still names the CNI network tenants may not reuse.
  const config = input.defaultNetwork ? { ...engine, clusterNetwork: input.defaultNetwork } : engine;
  const label = `${pod.namespace}/${pod.name}`;
  const resolver = new NetworkResolver({ config, cluster, confs: input.confs }, label);
  const ifName = input.runtimeIfName ?? 'eth0';
  // The same resolve and plan as ADD and DEL, fed a request as the runtime would send it.
  const request = { containerId: 'explain', netns: '', ifName, cniArgs: [], runtimeConfig: {} };
  const podRef = { namespace: pod.namespace, name: pod.name, uid: pod.uid };
  const { plan, networks } = await resolveAndPlan(
    resolver,
    request,
    podRef,
    pod,
    pod.namespace,
    input.defaultNetwork ? undefined : PLACEHOLDER,
  );
  // The same device assignment as ADD, over what can be read from here.
  const devices = await explainDevices(config, plan, label, pod, input);
  // With "default-route" on any attachment, ADD replaces every default route with that one.
  const routeChosen = plan.attachments.some((a) => a.defaultRoute !== undefined);
  const violations = await tenantPolicyViolations(
    { config, confs: input.confs },
    resolver,
    pod.namespace,
    plan,
    networks,
  );
  const refusedOf = (network: string): { refused?: string } => {
    const v = violations.find((x) => x.network === network);
    if (v) return { refused: `the tenant policy refuses ${v.what}: ${v.rule}` };
    return devices.refused?.network === network ? { refused: devices.refused.reason } : {};
  };
  return plan.attachments.map((att) => {
    if (att.configText === '')
      return { network: att.network, interface: att.ifName, default: att.isDefault, config: null };
    const deviceOf = (): Partial<ExplainedAttachment> => {
      if (att.resourceName === undefined) return {};
      if (att.deviceId === undefined)
        return { resource: att.resourceName, deviceUnknown: devices.unknown ?? 'no device left for it' };
      return { resource: att.resourceName, device: { id: att.deviceId, from: deviceSource(att) } };
    };
    const list = parseNetworkConfig(att.configText);
    const cniVersion = selectVersion(list.cniVersion, list.cniVersions);
    const routes = att.isDefault || routeChosen ? [] : defaultRoutesIn(list);
    return {
      network: att.network,
      interface: att.ifName,
      default: att.isDefault,
      config: list.plugins.map((p) =>
        buildPluginRequestConfig(p, { name: list.name, cniVersion, capabilityArgs: att.capabilityArgs }),
      ),
      ...(routes.length > 0 ? { warning: strayDefaultRouteWarning(att.ifName, routes) } : {}),
      ...refusedOf(att.network),
      ...deviceOf(),
    };
  });
}

/** Stands in for the kubelet when explain has no PodResources socket: marks the devices unknown. */
class KubeletNotAsked implements PodResourcesReader {
  podDevices(): Promise<PodDevices> {
    return Promise.reject(new KubeletNotAskedError());
  }
}
class KubeletNotAskedError extends Error {}

const NOT_ASKED =
  "device-plugin devices are allocated by the kubelet of the pod's node: run explain there with --pod-resources SOCKET to read them";

/**
 * Assigns devices to the plan as ADD would (assignDevices: DRA claims first, then the kubelet),
 * except that what cannot be read from here leaves the devices unknown rather than failing:
 * `unknown` says why. `refused` is what ADD would fail the pod on (too few devices, bad IDs).
 */
async function explainDevices(
  config: EngineDeps['config'],
  plan: AttachmentPlan,
  label: string,
  pod: PodInfo,
  input: ExplainOptions,
): Promise<{ unknown?: string; refused?: { network: string; reason: string } }> {
  if (!plan.attachments.some((a) => a.resourceName !== undefined)) return {};
  const claims = pod.resourceClaims ?? [];
  const sources = claims.length > 0 && input.draSources ? await input.draSources(pod) : undefined;
  try {
    await assignDevices(
      {
        config,
        podResources: input.podResources ?? new KubeletNotAsked(),
        ...(sources ? { draDevices: new DraDeviceIndex(sources) } : {}),
      },
      plan,
      label,
      undefined,
      claims,
    );
    return {};
  } catch (err) {
    if (!(err instanceof EngineError)) throw err;
    if (err.cause instanceof KubeletNotAskedError) return { unknown: NOT_ASKED };
    // What a retry at ADD could fix (a claim not allocated yet, the kubelet not answering).
    if (err.retryable) return { unknown: err.reason };
    return { unknown: 'ADD would fail the pod', refused: { network: err.network ?? '', reason: err.reason } };
  }
}

function deviceSource(att: PlannedAttachment): string {
  const d = att.draDevice;
  return d
    ? `DRA claim ${d.claimNamespace}/${d.claimName}: ${d.driver}/${d.pool}/${d.device}`
    : 'the kubelet (device plugin)';
}

export function formatExplanation(attachments: ExplainedAttachment[]): string {
  const rows = attachments.map((a) => [
    a.interface,
    a.network,
    a.default ? 'yes' : 'no',
    a.config ? a.config.map((c) => String(c['type'])).join(' → ') : '(not given: pass --default-network)',
  ]);
  const head = ['INTERFACE', 'NETWORK', 'DEFAULT', 'PLUGINS'];
  // A DEVICE column only when some network names a device resource.
  if (attachments.some((a) => a.resource !== undefined)) {
    head.splice(3, 0, 'DEVICE');
    attachments.forEach((a, i) =>
      rows[i]!.splice(3, 0, a.device ? a.device.id : a.resource !== undefined ? '(unknown)' : '-'),
    );
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  const parts = [line(head), ...rows.map(line), ''];
  for (const a of attachments)
    if (a.warning) parts.push(`warning: ${a.interface} (${a.network}) ${a.warning}`, '');
  for (const a of attachments)
    if (a.refused) parts.push(`REFUSED ${a.interface} (${a.network}): ${a.refused}`, '');
  for (const a of attachments) {
    if (a.resource === undefined) continue;
    const what = a.device
      ? `${a.device.id}, allocated by ${a.device.from}`
      : `not known here: ${a.deviceUnknown ?? 'no device'}`;
    parts.push(`device of ${a.interface} (${a.network}, resource ${a.resource}): ${what}`, '');
  }
  for (const a of attachments) {
    if (!a.config) continue;
    parts.push(`# ${a.interface} (${a.network})`);
    for (const c of a.config) parts.push(JSON.stringify(c, null, 2));
    parts.push('');
  }
  return parts.join('\n');
}
