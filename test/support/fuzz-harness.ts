/**
 * The thin plugin's real entry (runThinPlugin → runPluginMain → engine) with the real plan store
 * on disk, real config parsing and a local-mode cluster view, for the fuzz targets of
 * test/reliability. Delegates are recorded instead of run (FAKE: RecordingLists): the point is
 * what multinet decides from the input.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NetworkConfigList } from '../../src/cni/network-config.ts';
import type { RuntimeConf } from '../../src/cni/network-list-runner.ts';
import type { CniResult } from '../../src/cni/result.ts';
import { runThinPlugin } from '../../src/thin/run-thin-plugin.ts';
import type { MultinetConfig } from '../../src/config/multinet-config.ts';
import type { DelegateLists, EngineDeps } from '../../src/engine/engine-deps.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { FileConfSource } from '../../src/host/file-conf-source.ts';
import { FilePlanStore } from '../../src/host/file-plan-store.ts';
import { ManifestClusterView } from '../../src/local/manifest-cluster-view.ts';

export const SPEC_CODES = new Set([1, 2, 3, 4, 5, 6, 7, 11, 50]);

/** FAKE delegates: record what would run, answer like a plugin that attached `ifName`. */
export class RecordingLists implements DelegateLists {
  attached = new Map<string, number>();
  adds = 0;
  async add(list: NetworkConfigList, rt: RuntimeConf): Promise<CniResult> {
    this.adds++;
    const key = `${rt.containerId}/${rt.ifName}`;
    this.attached.set(key, (this.attached.get(key) ?? 0) + 1);
    return {
      cniVersion: '1.0.0',
      interfaces: [{ name: rt.ifName, mac: '02:00:00:00:00:01', sandbox: rt.netns }],
      ips: [{ address: '10.9.0.5/24', gateway: '10.9.0.1', interface: 0 }],
    } as unknown as CniResult;
  }
  async del(_list: NetworkConfigList, rt: RuntimeConf): Promise<void> {
    this.attached.delete(`${rt.containerId}/${rt.ifName}`);
  }
  async check(): Promise<void> {}
  async gc(): Promise<void> {}
  async status(): Promise<void> {}
}

export interface Harness {
  lists: RecordingLists;
  cluster: ManifestClusterView;
  cacheDir: string;
  call(env: Record<string, string | undefined>, stdin: string): Promise<{ exitCode: number; stdout: string }>;
}

export const MULTINET_CONF = (cacheDir: string) => ({
  cniVersion: '1.0.0',
  name: 'multinet',
  type: 'multinet',
  cacheDir,
  clusterNetworkConfig: { cniVersion: '1.0.0', name: 'podnet', type: 'bridge' },
  confDir: '/nonexistent/multinet.d',
});

export async function harness(t: { after(fn: () => Promise<void>): void }): Promise<Harness> {
  const cacheDir = await mkdtemp(join(tmpdir(), 'mn-fuzz-'));
  t.after(() => rm(cacheDir, { recursive: true, force: true }));
  const lists = new RecordingLists();
  const cluster = new ManifestClusterView();
  const build = async ({ engine, adapters }: MultinetConfig): Promise<EngineDeps> => ({
    config: engine,
    cluster,
    confs: new FileConfSource(),
    lists,
    plans: new FilePlanStore(adapters.cacheDir),
    routes: { setDefaultRoute: async () => undefined },
    log: silentLogger,
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    now: () => Date.now(),
  });
  return {
    lists,
    cluster,
    cacheDir,
    call: (env, stdin) => runThinPlugin(env, stdin, build),
  };
}

export const podEnv = (command: string, containerId = 'fuzz1') => ({
  CNI_COMMAND: command,
  CNI_CONTAINERID: containerId,
  CNI_NETNS: '/run/netns/none',
  CNI_IFNAME: 'eth0',
  CNI_PATH: '/usr/lib/cni',
  CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=ns1;K8S_POD_NAME=p;K8S_POD_UID=u1`,
});
