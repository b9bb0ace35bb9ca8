/**
 * One node of a test cluster: its network namespace (cluster-topology.ts) plus a mount namespace
 * of its own, kept by a holder process, where per-node directories are bind-mounted over the
 * paths a node's components write whatever their config says (/run/containerd, /var/lib/cni,
 * /var/lib/kubelet, /var/log, /etc/cni, /opt/cni, /run/netns, /run/multinet, and the device-info
 * files of /run/k8s.cni.cncf.io, which device plugins and multinet write), and read-only files
 * over the three /proc/sys files the kubelet would otherwise set host-wide. containerd and the
 * kubelet start there with `nsenter -t HOLDER -m -n` and a clean environment (never
 * `ip netns exec`, which remounts /sys and hides the cgroup tree).
 */
import { execFile, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { isAlive, stopGroup } from './control-plane-process.ts';
import type { Pki } from './control-plane-pki.ts';
import {
  CONTAINERD_SOCKET,
  containerdConfig,
  PRIMARY_CONF,
  primaryCniConfig,
  writeKubeletFiles,
} from './cluster-node-config.ts';
import type { NodeNetwork } from './cluster-topology.ts';
import { PLUGIN_DIR, PLUGIN_ENV } from './netns.ts';

const run = promisify(execFile);
/** Host paths a node writes; each gets a per-node directory mounted over it. */
export const NODE_PRIVATE_PATHS = [
  '/run/containerd',
  '/var/lib/cni',
  '/var/lib/kubelet',
  '/var/log',
  '/etc/cni',
  '/opt/cni',
  '/run/netns',
  '/run/multinet',
  // /var/run/k8s.cni.cncf.io/devinfo (device-info spec §4; /var/run is /run here).
  '/run/k8s.cni.cncf.io',
];
/** What the kubelet wants; with these already in place it writes nothing (docs/cluster.md, "What it is"). */
const KUBELET_SYSCTLS: Record<string, string> = {
  'vm/overcommit_memory': '1',
  'kernel/panic': '10',
  'kernel/panic_on_oops': '1',
};

export type NodeComponent = 'containerd' | 'kubelet';

/** What teardown needs to find a node's processes, also from another process. */
export interface NodeState {
  name: string;
  netns: string;
  dir: string;
  holder: number;
  pids: Partial<Record<NodeComponent, number>>;
}

const hostPath = (dir: string, path: string): string => join(dir, 'fs', path.slice(1).replaceAll('/', '-'));

export class ClusterNode {
  readonly state: NodeState;

  constructor(
    readonly net: NodeNetwork,
    readonly dir: string,
    holder: number,
  ) {
    this.state = { name: net.name, netns: net.netns, dir, holder, pids: {} };
  }

  get name(): string {
    return this.net.name;
  }

  /** The host path of a node path: `/etc/cni/net.d` -> `<dir>/fs/etc-cni/net.d`. */
  hostPath(path: string): string {
    const base = NODE_PRIVATE_PATHS.find((p) => path === p || path.startsWith(`${p}/`));
    if (!base) throw new Error(`${path} is not private to the node`);
    return join(hostPath(this.dir, base), path.slice(base.length));
  }

  /** Command prefix: run in the node's network and mount namespaces. */
  enter(): string[] {
    return ['nsenter', '-t', String(this.state.holder), '-m', '-n', '--'];
  }

  /** Runs a command on the node (clean environment) and returns its stdout. */
  async exec(command: string[], opts: { timeoutMs?: number } = {}): Promise<string> {
    const [bin, ...args] = [...this.enter(), ...command];
    const r = await run(bin!, args, {
      env: PLUGIN_ENV,
      timeout: opts.timeoutMs ?? 30_000,
      maxBuffer: 1 << 24,
    });
    return r.stdout;
  }

  /** `ctr -n k8s.io ...` against the node's containerd. */
  ctr(...args: string[]): Promise<string> {
    return this.exec(['ctr', '--address', CONTAINERD_SOCKET, '-n', 'k8s.io', ...args]);
  }

  /**
   * `ctr images import`: multinet's image is ~220 MB unpacked, and on a loaded 2-core machine its
   * import took longer than exec's default 30 s, so it gets its own, longer bound.
   */
  importImage(tarball: string): Promise<string> {
    return this.exec(['ctr', '--address', CONTAINERD_SOCKET, '-n', 'k8s.io', 'images', 'import', tarball], {
      timeoutMs: 300_000,
    });
  }

  /** Creates the mount namespace (holder) and the node's files; returns the node, nothing started. */
  static async prepare(net: NodeNetwork, dir: string, created: string[]): Promise<ClusterNode> {
    const binds: string[] = [];
    for (const target of NODE_PRIVATE_PATHS) {
      const source = hostPath(dir, target);
      await mkdir(source, { recursive: true });
      // A bind mount needs a mount point on the host: an empty directory, removed at teardown.
      if (!existsSync(target)) {
        await mkdir(target, { recursive: true });
        created.push(target);
      }
      binds.push(`mount --bind '${source}' '${target}'`);
    }
    const sysctlDir = join(dir, 'sysctl');
    await mkdir(sysctlDir, { recursive: true });
    for (const [key, value] of Object.entries(KUBELET_SYSCTLS)) {
      const file = join(sysctlDir, key.replace('/', '.'));
      await writeFile(file, `${value}\n`);
      const target = `/proc/sys/${key}`;
      binds.push(`mount --bind '${file}' ${target}`, `mount -o remount,bind,ro ${target}`);
    }
    // The DaemonSet's HostToContainer mounts need a shared root: only inside this namespace.
    binds.push('mount --make-rshared /');
    const log = openSync(join(dir, 'holder.log'), 'a');
    const holder = spawn(
      'nsenter',
      [
        `--net=${net.netnsPath}`,
        '--',
        'unshare',
        '--mount',
        '--propagation',
        'slave',
        'sh',
        '-c',
        `${binds.join(' && ')} && exec sleep infinity`,
      ],
      { stdio: ['ignore', log, log], env: PLUGIN_ENV, detached: true },
    );
    closeSync(log);
    holder.unref();
    const pid = holder.pid!;
    const deadline = Date.now() + 10_000;
    while ((await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim() !== 'sleep') {
      if (!isAlive(pid) || Date.now() > deadline) {
        throw new Error(
          `node ${net.name}: mount namespace holder did not start: ${await readFile(join(dir, 'holder.log'), 'utf8')}`,
        );
      }
      await sleep(20);
    }
    const node = new ClusterNode(net, dir, pid);
    // CNI plugins: copies (a symlink into /usr/lib/cni would dangle inside a DaemonSet container).
    const bin = node.hostPath('/opt/cni/bin');
    await mkdir(bin, { recursive: true });
    for (const plugin of await readdir(PLUGIN_DIR))
      await copyFile(join(PLUGIN_DIR, plugin), join(bin, plugin));
    await mkdir(node.hostPath('/etc/cni/net.d'), { recursive: true });
    await writeFile(join(node.hostPath('/etc/cni/net.d'), PRIMARY_CONF), primaryCniConfig(net));
    return node;
  }

  private spawnComponent(name: NodeComponent, command: string[]): number {
    const log = openSync(join(this.dir, `${name}.log`), 'a');
    const [bin, ...args] = [...this.enter(), 'env', '-i', `PATH=${PLUGIN_ENV.PATH}`, ...command];
    const child = spawn(bin!, args, { stdio: ['ignore', log, log], detached: true });
    closeSync(log);
    child.unref();
    this.state.pids[name] = child.pid!;
    return child.pid!;
  }

  async startContainerd(images: string[]): Promise<void> {
    const config = join(this.dir, 'containerd.toml');
    await writeFile(config, containerdConfig(join(this.dir, 'containerd')));
    const pid = this.spawnComponent('containerd', ['containerd', '--config', config]);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const up = await this.ctr('version').then(
        () => true,
        () => false,
      );
      if (up) break;
      if (!isAlive(pid) || Date.now() > deadline)
        throw new Error(`node ${this.name}: containerd did not start:\n${await this.logTail('containerd')}`);
      await sleep(100);
    }
    for (const tarball of images) await this.importImage(tarball);
  }

  async startKubelet(cp: { server: string; pki: Pki }, binDir: string): Promise<void> {
    const files = await writeKubeletFiles(join(this.dir, 'kubelet'), this.net, cp);
    await this.ensureCgroupRoot();
    this.spawnComponent('kubelet', [
      join(binDir, 'kubelet'),
      `--config=${files.kubeletConfig}`,
      `--kubeconfig=${files.kubeconfig}`,
      `--hostname-override=${this.name}`,
      `--node-ip=${this.net.nodeIp}`,
      '--v=2',
    ]);
  }

  /** The kubelet refuses a cgroupRoot that does not exist: make it in every hierarchy. */
  private async ensureCgroupRoot(): Promise<void> {
    for (const dir of await cgroupHierarchies()) {
      const path = join(dir, `mnc-${this.name}`);
      await mkdir(path, { recursive: true });
      if (dir.endsWith('/cpuset')) {
        // A new cpuset starts empty; a process cannot join it until cpus and mems are set.
        for (const f of ['cpuset.cpus', 'cpuset.mems'])
          await writeFile(join(path, f), await readFile(join(dir, f)));
      }
    }
  }

  /** Kills one component (SIGTERM, then SIGKILL); `start*` brings it back. */
  async stopComponent(name: NodeComponent): Promise<void> {
    const pid = this.state.pids[name];
    if (pid !== undefined) await stopGroup(pid, 10_000);
    delete this.state.pids[name];
  }

  async logTail(name: NodeComponent, lines = 40): Promise<string> {
    const text = await readFile(join(this.dir, `${name}.log`), 'utf8').catch(() => '');
    return text.split('\n').slice(-lines).join('\n');
  }
}

/** Mounted cgroup hierarchies (v1 controllers and the unified tree), symlinks skipped. */
export async function cgroupHierarchies(): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir('/sys/fs/cgroup', { withFileTypes: true })) {
    if (e.isDirectory()) out.push(join('/sys/fs/cgroup', e.name));
  }
  return out;
}
