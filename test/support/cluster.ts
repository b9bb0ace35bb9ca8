/**
 * A real Kubernetes cluster on this machine for tests and the demo (docs/cluster.md): the
 * control plane of control-plane.ts (etcd, kube-apiserver with Node,RBAC and NodeRestriction)
 * plus kube-scheduler and kube-controller-manager, and N nodes (default 2), each a network
 * namespace and a mount namespace with its own containerd 1.6 and kubelet 1.37. Images are
 * built locally and imported into every node: pause, the toolbox, and (unless `multinetImage`
 * is false) multinet's own image under the name the shipped DaemonSet uses.
 *
 * How a test gets one:
 *   const cluster = await startCluster();            // lock, topology, control plane, nodes Ready
 *   t.after(() => cluster.stop());                   // also runs on SIGINT/SIGTERM; a watchdog
 *                                                    // covers SIGKILL of the test process
 *   await cluster.kubectl(['apply', '-f', file]);    // the admin kubeconfig: cluster.kubeconfig
 *   await cluster.restart('node1', 'kubelet');       // or 'containerd'
 *   await cluster.node('node1').exec(['ip', 'a']);   // in the node's namespaces
 * multinet itself is installed by the test (cluster-multinet.ts: installThick).
 */
import { execFile, spawn } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ClusterNode, type NodeComponent } from './cluster-node.ts';
import { buildMultinetImage, buildToolboxImage } from './cluster-images.ts';
import {
  acquireClusterLock,
  readClusterState,
  releaseClusterLock,
  removeClusterState,
  writeClusterState,
  type ClusterState,
} from './cluster-state.ts';
import { clusterLeftovers, sweepCluster } from './cluster-sweep.ts';
import { API_ADDRESS, createTopology, type NodeNetwork } from './cluster-topology.ts';
import { startControllers } from './control-plane-controllers.ts';
import { isAlive, stopGroup } from './control-plane-process.ts';
import { REPO_ROOT, startControlPlane, stopControlPlaneAt, type ControlPlane } from './control-plane.ts';
import { buildSandboxImage } from './sandbox-image.ts';

const run = promisify(execFile);
export const DEFAULT_CLUSTER_DIR = join(REPO_ROOT, '.tmp/cluster');

export interface ClusterOptions {
  nodes?: number;
  dir?: string;
  binDir?: string;
  /** Outlives this process (npm run cluster -- up); default false: torn down when it exits. */
  persistent?: boolean;
  /** Build and import multinet's image (needs the built dist/). Default true. */
  multinetImage?: boolean;
  /** Progress lines (the demo shows them). */
  onProgress?: (line: string) => void;
}

export interface Cluster {
  dir: string;
  /** Admin kubeconfig (system:masters): KUBECONFIG for kubectl. */
  kubeconfig: string;
  /** https://10.250.0.1:PORT, reachable from the host and every node namespace. */
  server: string;
  apiHost: string;
  apiPort: string;
  controlPlane: ControlPlane;
  nodes: ClusterNode[];
  node(name: string): ClusterNode;
  /** tools/bin/kubectl with the admin kubeconfig; rejects with stderr on a non-zero exit. */
  kubectl(args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<string>;
  /** Stops one component of a node and starts it again (the node keeps its pods and state). */
  restart(node: string, component: NodeComponent): Promise<void>;
  stop(): Promise<void>;
}

/** Removes a cluster from its state file and sweeps what is left by name. */
export async function teardownCluster(state: ClusterState | undefined = readClusterState()): Promise<void> {
  if (state) {
    for (const n of state.nodes) if (n.pids.kubelet) await stopGroup(n.pids.kubelet, 2_000);
    for (const pid of state.controllerPids) await stopGroup(pid, 2_000);
    await stopControlPlaneAt(state.controlPlaneDir);
  }
  await sweepCluster(state?.nodes.map((n) => n.holder) ?? [], state?.mountPoints ?? []);
  if (state) {
    await rm(state.dir, { recursive: true, force: true });
    await removeClusterState();
    releaseClusterLock(state.lockPid);
    // Last, and never when the watchdog is the one tearing down (it runs `down` as our parent
    // through tsx): killing its group would kill this process before it finished.
    const w = state.watchdogPid;
    if (w && w !== process.pid && w !== process.ppid && isAlive(w)) await stopGroup(w, 0);
  }
}

async function images(opts: ClusterOptions): Promise<string[]> {
  const built = [buildSandboxImage(), buildToolboxImage()];
  if (opts.multinetImage !== false) built.push(buildMultinetImage());
  return Promise.all(built);
}

export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const progress = opts.onProgress ?? (() => {});
  const binDir = opts.binDir ?? join(REPO_ROOT, 'tools/bin');
  const dir = opts.dir ?? DEFAULT_CLUSTER_DIR;
  const lockPid = await acquireClusterLock();
  if (lockPid === undefined) {
    const s = readClusterState();
    throw new Error(
      `a test cluster already runs on this machine (${s ? `${s.dir}, started by pid ${s.owner} at ${s.startedAt}` : 'no state file'}): stop it with \`npm run cluster -- down\``,
    );
  }
  const leftovers = [
    ...(readClusterState() ? ['/run/multinet-cluster.json (state of an earlier cluster)'] : []),
    ...(await clusterLeftovers()),
  ];
  if (leftovers.length > 0) {
    releaseClusterLock(lockPid);
    throw new Error(
      `leftovers of an earlier cluster: ${leftovers.join('; ')}. Remove them with \`npm run cluster -- down\``,
    );
  }
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const state: ClusterState = {
    dir,
    owner: process.pid,
    persistent: opts.persistent ?? false,
    lockPid,
    controlPlaneDir: join(dir, 'control-plane'),
    controllerPids: [],
    nodes: [],
    mountPoints: [],
    startedAt: new Date().toISOString(),
  };
  await writeClusterState(state);
  const removeHooks = opts.persistent ? () => {} : installSignalTeardown();
  if (!opts.persistent) state.watchdogPid = startClusterWatchdog(process.pid);
  try {
    progress('images (pause, toolbox, multinet), network namespaces, control plane');
    const imagesReady = images(opts);
    imagesReady.catch(() => {});
    const nets: NodeNetwork[] = await createTopology(opts.nodes ?? 2);
    const cp = await startControlPlane({
      dir: state.controlPlaneDir,
      binDir,
      persistent: true,
      nodes: { address: API_ADDRESS },
    });
    state.kubeconfig = cp.adminKubeconfig;
    state.server = cp.server;
    state.controllerPids = startControllers(cp, binDir, dir).map((p) => p.pid);
    await writeClusterState(state);
    const nodes: ClusterNode[] = [];
    for (const net of nets) {
      const node = await ClusterNode.prepare(net, join(dir, net.name), state.mountPoints);
      nodes.push(node);
      state.nodes.push(node.state);
    }
    await writeClusterState(state);
    const tarballs = await imagesReady;
    progress(`nodes: containerd, image import, kubelet (${nodes.map((n) => n.name).join(', ')})`);
    await Promise.all(
      nodes.map(async (n) => {
        await n.startContainerd(tarballs);
        await n.startKubelet(cp, binDir);
      }),
    );
    await writeClusterState(state);
    const cluster = makeCluster(state, cp, nodes, binDir, removeHooks);
    await waitNodesReady(cluster);
    // ServiceAccount admission refuses pods until the controller-manager made `default`.
    await waitUntil(120_000, 'the default ServiceAccount', () =>
      cluster.kubectl(['get', 'serviceaccount', 'default', '-n', 'default', '-o', 'name']).then(() => true),
    );
    return cluster;
  } catch (err) {
    removeHooks();
    const logs = await Promise.all(
      state.nodes.map(async (n) => {
        const tail = async (f: string): Promise<string> =>
          (await run('tail', ['-n', '25', join(n.dir, f)]).catch(() => ({ stdout: '' }))).stdout;
        return `--- ${n.name} kubelet.log ---\n${await tail('kubelet.log')}\n--- ${n.name} containerd.log ---\n${await tail('containerd.log')}`;
      }),
    );
    await teardownCluster(state);
    throw new Error(`cluster failed to start: ${(err as Error).message}\n${logs.join('\n')}`, { cause: err });
  }
}

function makeCluster(
  state: ClusterState,
  cp: ControlPlane,
  nodes: ClusterNode[],
  binDir: string,
  removeHooks: () => void,
): Cluster {
  const url = new URL(cp.server);
  let stopped = false;
  const cluster: Cluster = {
    dir: state.dir,
    kubeconfig: cp.adminKubeconfig,
    server: cp.server,
    apiHost: url.hostname,
    apiPort: url.port,
    controlPlane: cp,
    nodes,
    node(name) {
      const n = nodes.find((x) => x.name === name);
      if (!n) throw new Error(`no node ${name} (nodes: ${nodes.map((x) => x.name).join(', ')})`);
      return n;
    },
    async kubectl(args, o = {}) {
      return new Promise((resolve, reject) => {
        const child = execFile(
          join(binDir, 'kubectl'),
          [`--kubeconfig=${cp.adminKubeconfig}`, ...args],
          { timeout: o.timeoutMs ?? 60_000, maxBuffer: 1 << 24 },
          (err, stdout, stderr) =>
            err
              ? reject(new Error(`kubectl ${args.join(' ')}: ${stderr.trim() || err.message}`))
              : resolve(stdout),
        );
        child.stdin!.end(o.input ?? '');
      });
    },
    async restart(name, component) {
      const node = cluster.node(name);
      await node.stopComponent(component);
      if (component === 'containerd') await node.startContainerd([]);
      else await node.startKubelet(cp, binDir);
      await writeClusterState(state);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      removeHooks();
      cp.client.close();
      cp.multinetClient.close();
      await teardownCluster(state);
    },
  };
  return cluster;
}

async function waitUntil(timeoutMs: number, what: string, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      if (await probe()) return;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? ` (last: ${last})` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function waitNodesReady(cluster: Cluster): Promise<void> {
  await waitUntil(120_000, `nodes ${cluster.nodes.map((n) => n.name).join(', ')} Ready`, async () => {
    const out = await cluster.kubectl([
      'get',
      'nodes',
      '-o',
      'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}',
    ]);
    const ready = out.split('\n').filter((l) => l.endsWith('=True')).length;
    return ready === cluster.nodes.length;
  });
}

/** Tears the cluster down when `owner` ends however it ends (SIGKILL included). */
function startClusterWatchdog(owner: number): number {
  const tsx = join(REPO_ROOT, 'node_modules/.bin/tsx');
  const down = `exec '${tsx}' '${join(REPO_ROOT, 'scripts/cluster.ts')}' down --owner ${owner}`;
  const child = spawn('sh', ['-c', `while kill -0 ${owner} 2>/dev/null; do sleep 1; done; ${down}`], {
    detached: true,
    stdio: 'ignore',
  });
  child.unref();
  return child.pid!;
}

/** Ctrl-C / SIGTERM: tear down, then die of the same signal. Returns the unhook function. */
function installSignalTeardown(): () => void {
  const handlers: [NodeJS.Signals, () => void][] = [];
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const handler = (): void => {
      void teardownCluster().finally(() => {
        for (const [s, h] of handlers) process.off(s, h);
        process.kill(process.pid, signal);
      });
    };
    handlers.push([signal, handler]);
    process.once(signal, handler);
  }
  return () => {
    for (const [s, h] of handlers) process.off(s, h);
  };
}
