import type { NetworkConfigList } from '../cni/network-config.ts';
import type { RuntimeConf } from '../cni/network-list-runner.ts';
import type { CniResult } from '../cni/result.ts';
import type { CachedAttachment, DelegateLists } from '../engine/engine-deps.ts';

export type DelegateObserver = (
  plugin: string,
  command: string,
  outcome: 'success' | 'error',
  seconds: number,
) => void;

/** "bridge" for a one-plugin list, "bridge+portmap" for a chain: low cardinality, still telling. */
export function pluginLabel(list: NetworkConfigList): string {
  return list.plugins.map((p) => p.type).join('+');
}

/** Times every delegate list the engine runs, labelled by its plugin types. */
export class ObservedDelegateLists implements DelegateLists {
  constructor(
    private readonly inner: DelegateLists,
    private readonly observe: DelegateObserver,
    private readonly now: () => number = () => performance.now(),
  ) {}

  private async timed<T>(list: NetworkConfigList, command: string, run: () => Promise<T>): Promise<T> {
    const t0 = this.now();
    try {
      const out = await run();
      this.observe(pluginLabel(list), command, 'success', (this.now() - t0) / 1000);
      return out;
    } catch (err) {
      this.observe(pluginLabel(list), command, 'error', (this.now() - t0) / 1000);
      throw err;
    }
  }

  add(
    list: NetworkConfigList,
    rt: RuntimeConf,
    signal?: AbortSignal,
    deferCache?: (write: Promise<void>) => void,
  ): Promise<CniResult> {
    return this.timed(list, 'ADD', () => this.inner.add(list, rt, signal, deferCache));
  }
  del(list: NetworkConfigList, rt: RuntimeConf, signal?: AbortSignal): Promise<void> {
    return this.timed(list, 'DEL', () => this.inner.del(list, rt, signal));
  }
  check(list: NetworkConfigList, rt: RuntimeConf, signal?: AbortSignal): Promise<void> {
    return this.timed(list, 'CHECK', () => this.inner.check(list, rt, signal));
  }
  gc(
    list: NetworkConfigList,
    valid: { containerId: string; ifName: string }[],
    cniPath: string[],
    signal?: AbortSignal,
  ): Promise<void> {
    return this.timed(list, 'GC', () => this.inner.gc(list, valid, cniPath, signal));
  }
  status(list: NetworkConfigList, cniPath: string[], signal?: AbortSignal): Promise<void> {
    return this.timed(list, 'STATUS', () => this.inner.status(list, cniPath, signal));
  }
  async cachedAttachments(containerId: string): Promise<CachedAttachment[]> {
    return (await this.inner.cachedAttachments?.(containerId)) ?? [];
  }
  async getCachedResult(
    list: NetworkConfigList,
    attachment: Pick<RuntimeConf, 'containerId' | 'ifName'>,
    version: string,
  ): Promise<CniResult | undefined> {
    return this.inner.getCachedResult?.(list, attachment, version);
  }
}
