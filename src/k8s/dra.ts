/**
 * DRA claims as device sources for NAD attachments (docs/devices.md#dra-claims).
 *
 * The contract is Multus's (pkg/draclient): a device allocated to one of the pod's
 * ResourceClaims backs an attachment when the ResourceSlice that publishes it gives it two string
 * attributes, `k8s.cni.cncf.io/resourceName` (equal to the NAD's `k8s.v1.cni.cncf.io/resourceName`)
 * and `k8s.cni.cncf.io/deviceID` (what the delegate gets as `deviceID`). Unlike Multus, which GETs
 * each claim and LISTs every ResourceSlice of the cluster on each ADD, the daemon reads both from
 * watch caches: all claims reduced to their allocation results, and this node's slices reduced to
 * the two attributes. A claim the cache does not hold allocated yet is read live, once.
 *
 * Beyond Multus: after the ADD, each such attachment is written into the claim's
 * `status.devices[]` (KEP-4817: `networkData` with interfaceName, ips, hardwareAddress; a Ready
 * condition) by server-side apply, one field manager per pod, so that DEL takes exactly its own
 * entries back.
 */
import type { KubeRestClient } from './kube-rest-client.ts';
import { apiErrorMessage } from './kube-rest-client.ts';
import { ClusterUnavailableError } from './cluster-view.ts';
import { DRA_DEVICE_ID_ATTRIBUTE, DRA_RESOURCE_NAME_ATTRIBUTE } from '../spec/well-known.ts';

export const RESOURCE_CLAIMS_PATH = '/apis/resource.k8s.io/v1/resourceclaims';
export const RESOURCE_SLICES_PATH = '/apis/resource.k8s.io/v1/resourceslices';

/** One allocated device of a claim (status.allocation.devices.results[]). */
export interface ClaimResult {
  request: string;
  driver: string;
  pool: string;
  device: string;
}

/** A ResourceClaim as the cache keeps it. */
export interface CachedClaim {
  namespace: string;
  name: string;
  uid: string;
  /** Undefined while the claim is not allocated. */
  results: ClaimResult[] | undefined;
}

/** A device of a ResourceSlice, with the two attributes of the contract when it has them. */
export interface SliceDevice {
  name: string;
  resourceName?: string;
  deviceId?: string;
}

/** A ResourceSlice as the cache keeps it. */
export interface CachedSlice {
  name: string;
  driver: string;
  pool: string;
  devices: SliceDevice[];
}

/** A device of one of the pod's claims that can back an attachment. */
export interface DraDevice {
  resourceName: string;
  deviceId: string;
  driver: string;
  pool: string;
  device: string;
  claim: { namespace: string; name: string };
}

/** Bounds of what the caches keep: the API's own limits, with room. */
const MAX_RESULTS = 64;
const MAX_SLICE_DEVICES = 256;
const MAX_NAME = 253;

const str = (v: unknown): string | undefined =>
  typeof v === 'string' && v.length > 0 && v.length <= MAX_NAME ? v : undefined;

const obj = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

export function toCachedClaim(o: Record<string, unknown>): CachedClaim {
  const meta = obj(o['metadata']);
  const allocation = obj(obj(o['status'])['allocation']);
  const raw = obj(allocation['devices'])['results'];
  let results: ClaimResult[] | undefined;
  if (Array.isArray(raw)) {
    results = [];
    for (const r of raw.slice(0, MAX_RESULTS)) {
      const e = obj(r);
      const driver = str(e['driver']);
      const pool = str(e['pool']);
      const device = str(e['device']);
      if (driver && pool && device) results.push({ request: str(e['request']) ?? '', driver, pool, device });
    }
  }
  return {
    namespace: str(meta['namespace']) ?? '',
    name: str(meta['name']) ?? '',
    uid: str(meta['uid']) ?? '',
    results,
  };
}

function stringAttribute(attrs: Record<string, unknown>, key: string): string | undefined {
  const v = obj(attrs[key])['string'];
  return typeof v === 'string' && v.length > 0 && v.length <= 1024 ? v : undefined;
}

export function toCachedSlice(o: Record<string, unknown>): CachedSlice {
  const meta = obj(o['metadata']);
  const spec = obj(o['spec']);
  const devices: SliceDevice[] = [];
  const raw = spec['devices'];
  if (Array.isArray(raw))
    for (const d of raw.slice(0, MAX_SLICE_DEVICES)) {
      const e = obj(d);
      const name = str(e['name']);
      if (!name) continue;
      const attrs = obj(e['attributes']);
      const dev: SliceDevice = { name };
      const resourceName = stringAttribute(attrs, DRA_RESOURCE_NAME_ATTRIBUTE);
      const deviceId = stringAttribute(attrs, DRA_DEVICE_ID_ATTRIBUTE);
      if (resourceName) dev.resourceName = resourceName;
      if (deviceId) dev.deviceId = deviceId;
      devices.push(dev);
    }
  return {
    name: str(meta['name']) ?? '',
    driver: str(spec['driver']) ?? '',
    pool: str(obj(spec['pool'])['name']) ?? '',
    devices,
  };
}

/** The port the engine asks: the devices of a pod's claims that back attachments. */
export interface DraDeviceReader {
  /**
   * The devices of the pod's claims whose slices carry both contract attributes, in claim order
   * then allocation order. Throws when a claim cannot be read or is not allocated, or when an
   * allocated device is missing from this node's slices.
   */
  devicesFor(
    pod: { namespace: string; name: string; claims: readonly string[] },
    signal?: AbortSignal,
  ): Promise<DraDevice[]>;
}

/** What the index reads: the two caches (informers) and a live claim read for a cache miss. */
export interface DraSources {
  /** False when the caches are off (no resource.k8s.io/v1, or no RBAC for it): no DRA devices. */
  enabled(): boolean;
  claim(namespace: string, name: string): CachedClaim | undefined;
  slices(): Iterable<CachedSlice>;
  /** The claim from the API server; undefined when it does not exist. */
  liveClaim(namespace: string, name: string, signal?: AbortSignal): Promise<CachedClaim | undefined>;
}

export class DraDeviceIndex implements DraDeviceReader {
  constructor(private readonly sources: DraSources) {}

  async devicesFor(
    pod: { namespace: string; name: string; claims: readonly string[] },
    signal?: AbortSignal,
  ): Promise<DraDevice[]> {
    const out: DraDevice[] = [];
    if (!this.sources.enabled()) return out;
    for (const name of pod.claims) {
      let claim = this.sources.claim(pod.namespace, name);
      // The scheduler allocated it a moment ago and the watch has not delivered that yet.
      if (!claim?.results) claim = await this.sources.liveClaim(pod.namespace, name, signal);
      if (!claim) throw new Error(`ResourceClaim ${pod.namespace}/${name} of the pod does not exist`);
      if (!claim.results) throw new Error(`ResourceClaim ${pod.namespace}/${name} is not allocated`);
      for (const r of claim.results) {
        const dev = this.find(r);
        if (!dev)
          throw new Error(
            `device ${r.driver}/${r.pool}/${r.device} of ResourceClaim ${pod.namespace}/${name} is in none of this node's ResourceSlices`,
          );
        // A device without the contract's attributes is not a network device: left to others.
        if (!dev.resourceName || !dev.deviceId) continue;
        out.push({
          resourceName: dev.resourceName,
          deviceId: dev.deviceId,
          driver: r.driver,
          pool: r.pool,
          device: r.device,
          claim: { namespace: pod.namespace, name },
        });
      }
    }
    return out;
  }

  private find(r: ClaimResult): SliceDevice | undefined {
    for (const s of this.sources.slices()) {
      if (s.driver !== r.driver || s.pool !== r.pool) continue;
      const d = s.devices.find((x) => x.name === r.device);
      if (d) return d;
    }
    return undefined;
  }
}

/**
 * Sources over fixed lists (`multinet explain`: manifests, or what one API read returned), with
 * no cache to miss: a claim not in `claims` is read through `liveClaim` when given.
 */
export function fixedDraSources(
  claims: readonly CachedClaim[],
  slices: readonly CachedSlice[],
  liveClaim?: DraSources['liveClaim'],
): DraSources {
  const claim = (namespace: string, name: string) =>
    claims.find((c) => c.namespace === namespace && c.name === name);
  return {
    enabled: () => true,
    claim,
    slices: () => slices,
    // Nothing newer to read: the fixed claim as it is (not allocated), or none.
    liveClaim: liveClaim ?? ((namespace, name) => Promise.resolve(claim(namespace, name))),
  };
}

/** This node's ResourceSlices, read once from the API server (`multinet explain` on a live pod). */
export async function listNodeSlices(
  client: Pick<KubeRestClient, 'request'>,
  nodeName: string,
  signal?: AbortSignal,
): Promise<CachedSlice[]> {
  const path = `${RESOURCE_SLICES_PATH}?fieldSelector=${encodeURIComponent(`spec.nodeName=${nodeName}`)}`;
  const res = await client.request('GET', path, undefined, undefined, signal).catch((err: unknown) => {
    throw new ClusterUnavailableError(
      `LIST ResourceSlices of node ${nodeName}: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  });
  // No resource.k8s.io/v1 on this cluster: no slices, so no DRA devices.
  if (res.status === 404) return [];
  if (res.status < 200 || res.status >= 300)
    throw new Error(`LIST ResourceSlices of node ${nodeName}: ${apiErrorMessage(res)}`);
  const items = (JSON.parse(res.body) as { items?: unknown }).items;
  return Array.isArray(items)
    ? items.map((o) =>
        toCachedSlice(typeof o === 'object' && o !== null ? (o as Record<string, unknown>) : {}),
      )
    : [];
}

/** A claim read from the API server (the cache missed it). */
export async function getClaim(
  client: Pick<KubeRestClient, 'request'>,
  namespace: string,
  name: string,
  signal?: AbortSignal,
): Promise<CachedClaim | undefined> {
  const path = `/apis/resource.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/resourceclaims/${encodeURIComponent(name)}`;
  const res = await client.request('GET', path, undefined, undefined, signal).catch((err: unknown) => {
    throw new ClusterUnavailableError(
      `GET ResourceClaim ${namespace}/${name}: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  });
  if (res.status === 404) return undefined;
  if (res.status >= 200 && res.status < 300)
    return toCachedClaim(JSON.parse(res.body) as Record<string, unknown>);
  const msg = `GET ResourceClaim ${namespace}/${name}: ${apiErrorMessage(res)}`;
  if (res.status >= 500 || res.status === 429) throw new ClusterUnavailableError(msg);
  throw new Error(msg);
}

/** One attachment as the claim's status.devices[] entry shows it (KEP-4817). */
export interface ClaimDeviceStatus {
  driver: string;
  pool: string;
  device: string;
  interfaceName: string;
  /** CIDRs, as network-status has them with their prefix. */
  ips: string[];
  hardwareAddress?: string;
  /** The pod and network the entry is about, for the Ready condition's message. */
  network: string;
}

/** Writes and removes a pod's entries in a claim's status.devices. */
export interface ClaimStatusWriter {
  /** Replaces the entries `manager` owns in the claim with `devices` ([] removes them all). */
  apply(
    claim: { namespace: string; name: string },
    manager: string,
    devices: readonly ClaimDeviceStatus[],
    signal?: AbortSignal,
  ): Promise<void>;
}

/** The server-side apply body of a claim's status.devices (one entry per attachment). */
export function claimStatusApply(
  claim: { namespace: string; name: string },
  devices: readonly ClaimDeviceStatus[],
  now: string,
): Record<string, unknown> {
  return {
    apiVersion: 'resource.k8s.io/v1',
    kind: 'ResourceClaim',
    metadata: { namespace: claim.namespace, name: claim.name },
    status: {
      devices: devices.map((d) => ({
        driver: d.driver,
        pool: d.pool,
        device: d.device,
        conditions: [
          {
            type: 'Ready',
            status: 'True',
            reason: 'NetworkAttached',
            message: `multinet attached ${d.network} as ${d.interfaceName}`.slice(0, 1024),
            lastTransitionTime: now,
          },
        ],
        networkData: {
          interfaceName: d.interfaceName,
          // The API takes at most 16 addresses, in CIDR form; a device without IPAM has none.
          ...(d.ips.length > 0 ? { ips: d.ips.slice(0, 16) } : {}),
          ...(d.hardwareAddress ? { hardwareAddress: d.hardwareAddress } : {}),
        },
      })),
    },
  };
}

export class KubernetesClaimStatusWriter implements ClaimStatusWriter {
  constructor(
    private readonly client: Pick<KubeRestClient, 'request'>,
    private readonly now: () => number = Date.now,
  ) {}

  async apply(
    claim: { namespace: string; name: string },
    manager: string,
    devices: readonly ClaimDeviceStatus[],
    signal?: AbortSignal,
  ): Promise<void> {
    const body = claimStatusApply(claim, devices, new Date(this.now()).toISOString().replace(/\.\d+Z$/, 'Z'));
    const path =
      `/apis/resource.k8s.io/v1/namespaces/${encodeURIComponent(claim.namespace)}/resourceclaims/` +
      `${encodeURIComponent(claim.name)}/status?fieldManager=${encodeURIComponent(manager)}&force=true`;
    const res = await client(this.client, path, body, signal);
    // The claim went with its pod (a template's claim is deleted after the pod): nothing to take back.
    if (res.status === 404 && devices.length === 0) return;
    if (res.status >= 200 && res.status < 300) return;
    throw new Error(
      `apply status.devices of ResourceClaim ${claim.namespace}/${claim.name}: ${apiErrorMessage(res)}`,
    );
  }
}

async function client(
  c: Pick<KubeRestClient, 'request'>,
  path: string,
  body: unknown,
  signal?: AbortSignal,
): ReturnType<KubeRestClient['request']> {
  return c.request('PATCH', path, body, 'application/apply-patch+yaml', signal);
}
