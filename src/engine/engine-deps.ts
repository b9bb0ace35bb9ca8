import type { NetworkConfigList } from '../cni/network-config.ts';
import type { RuntimeConf } from '../cni/network-list-runner.ts';
import type { CniResult } from '../cni/result.ts';
import type { EngineOptions } from '../config/multinet-config.ts';
import type { ClusterView } from '../k8s/cluster-view.ts';
import type { ClaimStatusWriter, DraDeviceReader } from '../k8s/dra.ts';
import type { PodResourcesReader } from '../k8s/pod-resources.ts';
import type { DeviceInfo } from '../spec/device-info.ts';
import type { PlanStore } from './attachment-plan.ts';
import type { ConfSource } from './conf-source.ts';
import type { Logger } from '../log/logger.ts';

/** How delegate network lists are run (src/cni's NetworkListRunner; a fake only in unit tests). */
export interface DelegateLists {
  /**
   * With `deferCache`, the result cache write is started but not awaited: it is handed over (the
   * caller awaits it, e.g. while the next delegate runs) instead of delaying the answer.
   */
  add(
    list: NetworkConfigList,
    rt: RuntimeConf,
    signal?: AbortSignal,
    deferCache?: (write: Promise<void>) => void,
  ): Promise<CniResult>;
  del(list: NetworkConfigList, rt: RuntimeConf, signal?: AbortSignal): Promise<void>;
  check(list: NetworkConfigList, rt: RuntimeConf, signal?: AbortSignal): Promise<void>;
  gc(
    list: NetworkConfigList,
    valid: { containerId: string; ifName: string }[],
    cniPath: string[],
    signal?: AbortSignal,
  ): Promise<void>;
  status(list: NetworkConfigList, cniPath: string[], signal?: AbortSignal): Promise<void>;
  /**
   * What the result cache remembers of one container's attachments, each with the configuration
   * it was attached with (libcni GetCachedAttachments): DEL's last resort when the plan is lost.
   */
  cachedAttachments?(containerId: string): Promise<CachedAttachment[]>;
  /**
   * The final ADD result cached for one attachment, converted to `version`; undefined when none
   * (the daemon's periodic CHECK writes network-status again from it, without an API read).
   */
  getCachedResult?(
    list: NetworkConfigList,
    attachment: Pick<RuntimeConf, 'containerId' | 'ifName'>,
    version: string,
  ): Promise<CniResult | undefined>;
}

export interface CachedAttachment {
  /** The network list's name. */
  network: string;
  ifName: string;
  configText: string;
  capabilityArgs: Record<string, unknown>;
}

/** Changes routes inside a pod's network namespace (iproute2 run in that namespace; we never enter it). */
export interface RouteEditor {
  /** Makes `ifName` carry the default route(s) via `gateways`, removing other default routes of that family. */
  setDefaultRoute(netns: string, ifName: string, gateways: string[], signal?: AbortSignal): Promise<void>;
}

/** Removes an interface from a pod's network namespace (iproute2 run in it; we never enter it). */
export interface LinkRemover {
  /** Resolves true when `ifName` existed and is gone, false when there was none. */
  removeLink(netns: string, ifName: string, signal?: AbortSignal): Promise<boolean>;
  /**
   * Removes the links of the given kinds (`macvlan`, `ipvlan`) that still carry a reference
   * plugin's temporary name (`veth` and 8 hex digits, what ip.RandomVethName makes): a macvlan or
   * ipvlan plugin killed between creating its link and renaming it leaves one. Resolves the
   * names removed.
   */
  removeTempLinks?(netns: string, kinds: readonly string[], signal?: AbortSignal): Promise<string[]>;
}

/** Recognises the node's own network namespace, which ADD must never configure (CNI error 8, as skel). */
export interface NodeNetnsCheck {
  isNodeNetns(path: string): Promise<boolean>;
}

/** What preparing an attachment's CNI device-info file found (device-info spec §4.2.1). */
export interface PreparedDeviceInfo {
  /** The device plugin's map, now also in the CNI file. */
  info?: DeviceInfo;
  /** The device plugin's file it came from. */
  source?: string;
  /** Why the device plugin's file was not used (unreadable, not root's, not a device-info map). */
  problem?: string;
}

/**
 * Device-info files (device-info spec §4): the device plugins' (read only) and one per attachment,
 * handed to its delegates as `CNIDeviceInfoFile` and read back into network-status.
 */
export interface DeviceInfoFiles {
  /**
   * Before the delegates run: removes a stale `cniFile`, then copies the device plugin's file of
   * `device` into it, when the plugin wrote one. Throws only when the directory is unusable.
   */
  prepare(
    cniFile: string,
    device: { resourceName: string; deviceId: string } | undefined,
  ): Promise<PreparedDeviceInfo>;
  /** After the delegates ran: the map in `cniFile` (copied, or written by a delegate); undefined if none. */
  read(cniFile: string): Promise<DeviceInfo | undefined>;
  /** DEL: removes `cniFile`; a missing file is fine. */
  remove(cniFile: string): Promise<void>;
}

export interface EngineDeps {
  config: EngineOptions;
  cluster: ClusterView | undefined;
  confs: ConfSource;
  lists: DelegateLists;
  plans: PlanStore;
  routes: RouteEditor;
  /** For what a plugin leaves behind when both its ADD and its DEL failed (optional). */
  links?: LinkRemover;
  /** Optional so fakes may leave it out; the real adapters always set it. */
  nodeNetns?: NodeNetnsCheck;
  /**
   * The kubelet's PodResources API, asked at most once per ADD and only when a selected network's
   * NAD names a `k8s.v1.cni.cncf.io/resourceName`; never on DEL (the plan records the devices).
   */
  podResources?: PodResourcesReader;
  /**
   * Devices of the pod's DRA claims (the daemon's caches, docs/devices.md#dra-claims): asked
   * before the kubelet, which is then asked only when the claims do not cover every attachment.
   */
  draDevices?: DraDeviceReader;
  /** Writes attachments into their claims' status.devices (daemon only). */
  claimStatus?: ClaimStatusWriter;
  deviceInfo?: DeviceInfoFiles;
  log: Logger;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  now(): number;
}

/** One CNI call for a pod, as the engine sees it (decoded from env + stdin at the boundary). */
export interface PodNetworkRequest {
  command: 'ADD' | 'DEL' | 'CHECK' | 'STATUS' | 'GC';
  containerId: string;
  netns: string;
  ifName: string;
  cniArgs: [string, string][];
  cniPath: string[];
  /** The version multinet was called with: its result is converted to it. */
  cniVersion: string;
  /** runtimeConfig the runtime sent multinet (capability args). */
  runtimeConfig: Record<string, unknown>;
  /** The plugin type multinet was called as (its own config's `type`): never a delegate. */
  selfType?: string;
  /** GC only: the attachments the runtime still considers valid. */
  validAttachments?: { containerId: string; ifName: string }[];
}
