/**
 * The one stage every implementation plays on: a real kube-apiserver + etcd, a node namespace
 * (veth `ens1`/`ens1p` as macvlan master) that reaches the API at the same URL, the same default
 * network file, the same NADs, the same reference plugins in /usr/lib/cni, and pod namespaces
 * made up front (a daemon in a private mount namespace sees only the netns mounts that existed
 * when it started). Identities: multinet's ServiceAccount (deploy/rbac) and a `multus` one with
 * upstream's ClusterRole, so the audit log tells their requests apart.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { stringify as toYaml } from 'yaml';
import { forwardApiIntoNetns } from '../test/support/api-forwarder.ts';
import { startControlPlane, type ControlPlane } from '../test/support/control-plane.ts';
import type { KubeObject } from '../test/support/kube-client.ts';
import { ip, NetnsTopology, type PodNs } from '../test/support/netns.ts';
import type { CleanupStack } from './cleanup-stack.ts';
import type { PodRef } from './exec-cni.ts';

export const BENCH_NAMESPACE = 'bench';
export const NODE_NAME = 'bench-node';
export const PLUGIN_DIR = '/usr/lib/cni';
export const MULTINET_USER = 'system:serviceaccount:kube-system:multinet';
export const MULTUS_USER = 'system:serviceaccount:kube-system:multus';
const NETWORKS_ANNOTATION = 'k8s.v1.cni.cncf.io/networks';

/** The additional networks, alternating macvlan (over ens1) and bridge, one /24 each. */
export function benchNetworkConfig(index: number, dataDir: string): Record<string, unknown> {
  const ipam = { type: 'host-local', dataDir, ranges: [[{ subnet: `10.20.${index}.0/24` }]] };
  return index % 2 === 1
    ? { cniVersion: '1.0.0', type: 'macvlan', master: 'ens1', mode: 'bridge', ipam }
    : { cniVersion: '1.0.0', type: 'bridge', bridge: `mnbench${index}`, ipam };
}

export const benchNetworkName = (index: number): string => `bench-net-${index}`;

export interface Identity {
  user: string;
  kubeconfig: string;
  token: string;
}

export class BenchScene {
  readonly pods: PodNs[] = [];
  private nextPod = 0;
  private podSeq = 0;

  private constructor(
    readonly cp: ControlPlane,
    readonly topo: NetnsTopology,
    readonly dir: string,
    readonly defaultNetworkFile: string,
    readonly defaultNetworkConfig: Record<string, unknown>,
    readonly ipamDir: string,
    readonly multinet: Identity,
    readonly multus: Identity,
    readonly maxNetworks: number,
  ) {}

  get nodeNsPath(): string {
    return this.topo.nodePath;
  }

  /** Port of the API server on 127.0.0.1 (also reachable inside the node namespace). */
  get apiPort(): number {
    return Number(new URL(this.cp.server).port);
  }

  static async create(
    cleanup: CleanupStack,
    opts: { podNamespaces: number; maxNetworks: number; log: (s: string) => void },
  ): Promise<BenchScene> {
    opts.log('starting etcd + kube-apiserver...\n');
    const cp = await startControlPlane({ timeoutMs: 90_000 });
    cleanup.push('control plane', () => cp.stop());
    const fakeTest = { after: (fn: () => unknown) => cleanup.push('netns topology', fn) };
    const topo = await NetnsTopology.create(fakeTest as unknown as TestContext);
    const stopForwarder = await forwardApiIntoNetns(cp.server, topo.node, topo.tmpDir);
    cleanup.push('API forwarder', stopForwarder);

    const dir = join(topo.tmpDir, 'bench');
    const ipamDir = join(dir, 'ipam');
    const primaryDir = join(dir, 'primary');
    await mkdir(ipamDir, { recursive: true });
    await mkdir(primaryDir, { recursive: true });
    // The default network (what kubelet's runtime would configure without a meta-plugin).
    const defaultNetworkConfig = {
      cniVersion: '0.4.0',
      name: 'podnet',
      type: 'bridge',
      bridge: 'mnbr0',
      isGateway: true,
      ipam: { type: 'host-local', dataDir: ipamDir, ranges: [[{ subnet: '10.88.0.0/16' }]] },
    };
    const defaultNetworkFile = join(primaryDir, '10-podnet.conf');
    await writeFile(defaultNetworkFile, JSON.stringify(defaultNetworkConfig));

    const c = cp.client;
    await c.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: BENCH_NAMESPACE } });
    for (let i = 1; i <= opts.maxNetworks; i++) {
      await c.create({
        apiVersion: 'k8s.cni.cncf.io/v1',
        kind: 'NetworkAttachmentDefinition',
        metadata: { namespace: BENCH_NAMESPACE, name: benchNetworkName(i) },
        spec: { config: JSON.stringify(benchNetworkConfig(i, ipamDir)) },
      });
    }
    const multus = await createMultusIdentity(cp, dir);
    const multinet = { user: MULTINET_USER, kubeconfig: cp.multinetKubeconfig, token: cp.multinetToken };
    const scene = new BenchScene(
      cp,
      topo,
      dir,
      defaultNetworkFile,
      defaultNetworkConfig,
      ipamDir,
      multinet,
      multus,
      opts.maxNetworks,
    );
    opts.log(`creating ${opts.podNamespaces} pod network namespaces...\n`);
    for (let i = 0; i < opts.podNamespaces; i++) scene.pods.push(await topo.addPod());
    return scene;
  }

  /** A pod network namespace of the pool (round robin: callers DEL before the namespace comes back). */
  podNs(index: number): PodNs {
    return this.pods[index % this.pods.length]!;
  }

  /** A pod object on this node asking for `networks` (NAD names in the bench namespace). */
  async createPod(prefix: string, networks: string[], namespace = BENCH_NAMESPACE): Promise<PodRef> {
    const name = `${prefix}-${++this.podSeq}`;
    const obj: KubeObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        namespace,
        name,
        ...(networks.length > 0 ? { annotations: { [NETWORKS_ANNOTATION]: networks.join(',') } } : {}),
      },
      spec: { nodeName: NODE_NAME, containers: [{ name: 'c', image: 'example.invalid/none' }] },
    };
    const created = await this.cp.client.create(obj);
    return { namespace, name, uid: created.metadata!.uid! };
  }

  /**
   * `count` pods at once (a few requests in flight). Scenarios create their pods before starting
   * an implementation, as the scheduler would have long before the kubelet's ADD, and give each
   * ADD its own pod: a daemon may rightly re-read a pod it was asked about a moment ago.
   */
  async createPods(prefix: string, networks: string[], count: number): Promise<PodRef[]> {
    const out: PodRef[] = new Array<PodRef>(count);
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < count) {
          const i = next++;
          out[i] = await this.createPod(prefix, networks);
        }
      }),
    );
    return out;
  }

  /** Deletes pods at once (grace period 0: no kubelet here would confirm a graceful delete). */
  async deletePods(pods: PodRef[]): Promise<void> {
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < pods.length) {
          const p = pods[next++]!;
          await this.cp.client.delete(
            { apiVersion: 'v1', kind: 'Pod', namespace: p.namespace, name: p.name },
            { gracePeriodSeconds: '0' },
          );
        }
      }),
    );
  }

  networks(count: number): string[] {
    return Array.from({ length: count }, (_, i) => benchNetworkName(i + 1));
  }

  /** The delegate config of a bench NAD as the meta-plugins build it (name injected). */
  delegateConfig(name: string): Record<string, unknown> {
    const index = Number(name.slice(name.lastIndexOf('-') + 1));
    return { ...benchNetworkConfig(index, this.ipamDir), name };
  }

  /**
   * Removes whatever an implementation's failed DEL left in a pod namespace (links other than lo),
   * so the next implementation starts on a clean stage. Returns the names removed. Only ever
   * touches the bench's own pod namespaces.
   */
  async resetPodNs(ns: PodNs): Promise<string[]> {
    if (!this.pods.includes(ns)) throw new Error(`${ns.name} is not a bench pod namespace`);
    const links = (JSON.parse(await ip('-j', '-n', ns.name, 'link', 'show')) as { ifname: string }[])
      .map((l) => l.ifname)
      .filter((n) => n !== 'lo');
    for (const name of links) await ip('-n', ns.name, 'link', 'del', name).catch(() => undefined);
    return links;
  }

  /** A new directory under the run's temp dir (removed with it). */
  async tempDir(name: string): Promise<string> {
    const d = join(this.dir, name);
    await mkdir(d, { recursive: true, mode: 0o700 });
    return d;
  }

  /** Consumes pod namespaces round robin for a new attachment. */
  takePodNs(): PodNs {
    return this.podNs(this.nextPod++);
  }
}

/** A `multus` ServiceAccount with the ClusterRole of upstream's deployments (multus-cni deployments/multus-daemonset-thick.yml). */
async function createMultusIdentity(cp: ControlPlane, dir: string): Promise<Identity> {
  const c = cp.client;
  await c.create({
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { namespace: 'kube-system', name: 'multus' },
  });
  await c.create({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'multus' },
    rules: [
      { apiGroups: ['k8s.cni.cncf.io'], resources: ['*'], verbs: ['*'] },
      { apiGroups: [''], resources: ['pods', 'pods/status'], verbs: ['get', 'list', 'update', 'watch'] },
      {
        apiGroups: ['', 'events.k8s.io'],
        resources: ['events'],
        verbs: ['create', 'patch', 'update'],
      },
    ],
  });
  await c.create({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'multus' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'multus' },
    subjects: [{ kind: 'ServiceAccount', namespace: 'kube-system', name: 'multus' }],
  });
  const tr = await c.create<KubeObject & { status: { token: string } }>(
    { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 86_400 } },
    {
      ref: { apiVersion: 'v1', kind: 'ServiceAccount', namespace: 'kube-system', name: 'multus' },
      subresource: 'token',
    },
  );
  const token = tr.status.token;
  const kubeconfig = join(dir, 'multus.kubeconfig');
  await writeFile(
    kubeconfig,
    toYaml({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'bench', cluster: { server: cp.server, 'certificate-authority': cp.caFile } }],
      users: [{ name: 'multus', user: { token } }],
      contexts: [{ name: 'bench', context: { cluster: 'bench', user: 'multus' } }],
      'current-context': 'bench',
    }),
    { mode: 0o600 },
  );
  return { user: MULTUS_USER, kubeconfig, token };
}
