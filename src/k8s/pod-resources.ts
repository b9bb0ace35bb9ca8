import { encodeStrings, fieldMessage, fieldString, readFields } from './protobuf-wire.ts';

/**
 * The kubelet's PodResources API (`k8s.io/kubelet/pkg/apis/podresources/v1`, service
 * `v1.PodResourcesLister` on /var/lib/kubelet/pod-resources/kubelet.sock): which device-plugin
 * devices the kubelet allocated to a pod. Only the messages and fields multinet reads are here.
 */

/** Device IDs by resource name, each list sorted (as Multus sorts them: attachment order is stable). */
export type PodDevices = ReadonlyMap<string, readonly string[]>;

/** The port: one question per ADD that needs it. */
export interface PodResourcesReader {
  podDevices(pod: { namespace: string; name: string }, signal?: AbortSignal): Promise<PodDevices>;
}

/** The kubelet could not be asked or did not answer usefully; retrying later may help. */
export class PodResourcesError extends Error {
  readonly retryable = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PodResourcesError';
  }
}

export const GET_METHOD = '/v1.PodResourcesLister/Get';
export const LIST_METHOD = '/v1.PodResourcesLister/List';

/** message ContainerDevices { string resource_name = 1; repeated string device_ids = 2; ... } */
export interface ContainerDevices {
  resourceName: string;
  deviceIds: string[];
}

/** message PodResources { string name = 1; string namespace = 2; repeated ContainerResources containers = 3; ... } */
export interface PodResources {
  name: string;
  namespace: string;
  /** The devices of every container (ContainerResources.devices = 2), in wire order. */
  devices: ContainerDevices[];
}

/** message GetPodResourcesRequest { string pod_name = 1; string pod_namespace = 2; } */
export function encodeGetRequest(pod: { namespace: string; name: string }): Uint8Array {
  return encodeStrings([
    [1, pod.name],
    [2, pod.namespace],
  ]);
}

function decodeContainerDevices(buf: Uint8Array): ContainerDevices {
  const out: ContainerDevices = { resourceName: '', deviceIds: [] };
  for (const f of readFields(buf)) {
    if (f.field === 1) out.resourceName = fieldString(f);
    else if (f.field === 2) out.deviceIds.push(fieldString(f));
  }
  return out;
}

export function decodePodResources(buf: Uint8Array): PodResources {
  const out: PodResources = { name: '', namespace: '', devices: [] };
  for (const f of readFields(buf)) {
    if (f.field === 1) out.name = fieldString(f);
    else if (f.field === 2) out.namespace = fieldString(f);
    else if (f.field === 3) {
      for (const c of readFields(fieldMessage(f)))
        if (c.field === 2) out.devices.push(decodeContainerDevices(fieldMessage(c)));
    }
  }
  return out;
}

/** message GetPodResourcesResponse { PodResources pod_resources = 1; } */
export function decodeGetResponse(buf: Uint8Array): PodResources | undefined {
  let pod: PodResources | undefined;
  for (const f of readFields(buf)) if (f.field === 1) pod = decodePodResources(fieldMessage(f));
  return pod;
}

/** message ListPodResourcesResponse { repeated PodResources pod_resources = 1; }: the one pod of them. */
export function findInListResponse(
  buf: Uint8Array,
  pod: { namespace: string; name: string },
): PodResources | undefined {
  for (const f of readFields(buf)) {
    if (f.field !== 1) continue;
    const p = decodePodResources(fieldMessage(f));
    if (p.name === pod.name && p.namespace === pod.namespace) return p;
  }
  return undefined;
}

const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Every container's devices merged by resource, sorted (Multus: GetPodResourceMap + SortDeviceIDs). */
export function devicesOf(pod: PodResources | undefined): PodDevices {
  const map = new Map<string, string[]>();
  for (const d of pod?.devices ?? []) {
    if (d.resourceName === '') continue;
    const ids = map.get(d.resourceName) ?? [];
    for (const id of d.deviceIds) if (!ids.includes(id)) ids.push(id);
    map.set(d.resourceName, ids);
  }
  for (const ids of map.values()) ids.sort(byCodeUnit);
  return map;
}
