import { setTimeout as sleep } from 'node:timers/promises';
import type { NetworkConfigList } from '../../src/cni/network-config.ts';
import type { RuntimeConf } from '../../src/cni/network-list-runner.ts';
import type { CniResult } from '../../src/cni/result.ts';
import type { AttachmentPlan, PlanStore } from '../../src/engine/attachment-plan.ts';
import type { ConfSource } from '../../src/engine/conf-source.ts';
import type { DeviceInfoFiles, DelegateLists, PreparedDeviceInfo } from '../../src/engine/engine-deps.ts';
import type { PodDevices, PodResourcesReader } from '../../src/k8s/pod-resources.ts';
import type { DeviceInfo } from '../../src/spec/device-info.ts';

export interface FakeCall {
  command: string;
  network: string;
  ifName: string;
  containerId: string;
  capabilityArgs: Record<string, unknown>;
  /** The delegate config list as it was handed over (raw JSON, injections included). */
  config: Record<string, unknown>;
  /** CNI_ARGS pairs of the call. */
  args: [string, string][];
}

/**
 * FAKE delegate runner for unit tests of orchestration (order, undo, caching, the daemon's
 * boundary). The real plugins are exercised by test/integration and test/e2e. An ADD records
 * `ADD`, waits `addDelayMs`, then records `ADD done`.
 */
export class FakeDelegateLists implements DelegateLists {
  calls: FakeCall[] = [];
  failAdd = new Set<string>();
  failDel = new Set<string>();
  /** Interface names whose CHECK fails (drift), with the plugin's error text. */
  failCheck = new Map<string, string>();
  /** The CNI code a failing ADD reports (the plugin's own code, as DelegateError carries it). */
  /** The CNI code a failing CHECK reports. */
  failCheckCode: unknown = 100;
  failAddCode: unknown = 7;
  addDelayMs = 0;
  /** What a network's ADD returns instead of the default result (interface 0 is `rt.ifName`). */
  results = new Map<string, (rt: RuntimeConf) => CniResult>();

  private record(
    command: string,
    list: NetworkConfigList,
    rt: {
      ifName?: string;
      containerId?: string;
      capabilityArgs?: Record<string, unknown>;
      args?: [string, string][];
    },
  ) {
    this.calls.push({
      command,
      network: list.name,
      ifName: rt.ifName ?? '',
      containerId: rt.containerId ?? '',
      capabilityArgs: rt.capabilityArgs ?? {},
      config: structuredClone(list.raw),
      args: [...(rt.args ?? [])],
    });
  }

  /** `COMMAND network ifName` per call, without the `ADD done` markers. */
  lines(): string[] {
    return this.calls
      .filter((c) => c.command !== 'ADD done')
      .map((c) => `${c.command} ${c.network}${c.ifName ? ` ${c.ifName}` : ''}`);
  }

  /** Networks whose deferred result cache write fails (ENOSPC), and how long each write takes. */
  failCacheWrite = new Set<string>();
  cacheWriteDelayMs = 0;
  /** Each deferred cache write that landed: its network and how many calls had been made by then. */
  cached: { network: string; afterCalls: number }[] = [];

  async add(
    list: NetworkConfigList,
    rt: RuntimeConf,
    _signal?: AbortSignal,
    deferCache?: (write: Promise<void>) => void,
  ): Promise<CniResult> {
    this.record('ADD', list, rt);
    if (this.addDelayMs) await sleep(this.addDelayMs);
    if (this.failAdd.has(list.name))
      throw Object.assign(new Error(`${list.name} refused`), { code: this.failAddCode });
    this.record('ADD done', list, { ...rt, capabilityArgs: {} });
    if (deferCache) {
      const write = sleep(this.cacheWriteDelayMs).then(() => {
        if (this.failCacheWrite.has(list.name)) throw new Error('ENOSPC: no space left on device');
        this.cached.push({ network: list.name, afterCalls: this.calls.length });
      });
      write.catch(() => undefined);
      deferCache(write);
    }
    const result = this.results.get(list.name);
    if (result) return result(rt);
    return {
      cniVersion: '1.0.0',
      interfaces: [{ name: rt.ifName, mac: '02:00:00:00:00:01', sandbox: rt.netns }],
      ips: [{ address: '10.1.0.5/24', gateway: '10.1.0.1', interface: 0 }],
    } as CniResult;
  }
  async del(list: NetworkConfigList, rt: RuntimeConf): Promise<void> {
    this.record('DEL', list, { ...rt, capabilityArgs: {} });
    if (this.failDel.has(list.name)) throw new Error(`${list.name} DEL failed`);
  }
  async check(list: NetworkConfigList, rt: RuntimeConf): Promise<void> {
    this.record('CHECK', list, rt);
    const err = this.failCheck.get(rt.ifName);
    if (err !== undefined) throw Object.assign(new Error(err), { code: this.failCheckCode });
  }
  /** The `cni.dev/valid-attachments` each network's last GC received, as `containerId/ifName`. */
  gcValid = new Map<string, string[]>();
  async gc(list: NetworkConfigList, valid: { containerId: string; ifName: string }[]): Promise<void> {
    this.record('GC', list, {});
    this.gcValid.set(list.name, valid.map((a) => `${a.containerId}/${a.ifName}`).sort());
  }
  async status(list: NetworkConfigList): Promise<void> {
    this.record('STATUS', list, {});
  }
}

/** Plans in memory, copied in and out as the file store would (no shared references). */
export class MemoryPlanStore implements PlanStore {
  plans = new Map<string, AttachmentPlan>();
  async get(id: string) {
    const p = this.plans.get(id);
    return p ? structuredClone(p) : undefined;
  }
  async put(plan: AttachmentPlan) {
    this.plans.set(plan.containerId, structuredClone(plan));
  }
  async delete(id: string) {
    this.plans.delete(id);
  }
  async list() {
    return [...this.plans.keys()];
  }
}

/** A node with no CNI config files; `exists` answers as told (readiness indicator tests). */
export function emptyConfSource(exists = false): ConfSource {
  return {
    listConfFiles: async () => [],
    readConfFile: async () => undefined,
    isDirectory: async () => false,
    exists: async () => exists,
  };
}

/** FAKE kubelet PodResources port for engine unit tests: answers `devices`, counts the questions. */
export class FakePodResources implements PodResourcesReader {
  asked: { namespace: string; name: string }[] = [];
  fail: Error | undefined;
  constructor(public devices: Record<string, string[]> = {}) {}
  async podDevices(pod: { namespace: string; name: string }): Promise<PodDevices> {
    this.asked.push({ namespace: pod.namespace, name: pod.name });
    if (this.fail) throw this.fail;
    return new Map(Object.entries(this.devices).map(([k, v]) => [k, [...v].sort()]));
  }
}

/**
 * FAKE device-info files in memory: `plugin` holds what device plugins wrote (by
 * `resourceName|deviceId`), `files` the CNI files; `written` lets a test play a delegate that
 * writes its own device-info.
 */
export class MemoryDeviceInfoFiles implements DeviceInfoFiles {
  plugin = new Map<string, DeviceInfo>();
  files = new Map<string, DeviceInfo>();
  log: string[] = [];
  async prepare(
    cniFile: string,
    device: { resourceName: string; deviceId: string } | undefined,
  ): Promise<PreparedDeviceInfo> {
    this.log.push(`prepare ${cniFile}${device ? ` ${device.resourceName} ${device.deviceId}` : ''}`);
    this.files.delete(cniFile);
    const info = device && this.plugin.get(`${device.resourceName}|${device.deviceId}`);
    if (!info) return {};
    this.files.set(cniFile, structuredClone(info));
    return { info };
  }
  async read(cniFile: string): Promise<DeviceInfo | undefined> {
    this.log.push(`read ${cniFile}`);
    return this.files.get(cniFile);
  }
  async remove(cniFile: string): Promise<void> {
    this.log.push(`remove ${cniFile}`);
    this.files.delete(cniFile);
  }
}
