/**
 * A real container runtime for e2e tests: Debian's containerd 1.6 + runc, started by hand inside
 * a test node namespace (settings as docs/containerd-e2e.md describes them).
 *
 * containerd 1.6 writes to /run/containerd (shim sockets, runc state) and /var/lib/cni (libcni's
 * result cache) whatever its config says, and mounts each pod's network namespace under its
 * state dir. So everything runs in one private mount namespace (kept by a holder process) where
 * those two paths are bind mounts of test directories: the host's are never written, and the
 * mounts vanish with the namespace. The CNI plugins see the pod netns paths only from inside
 * that mount namespace, so the multinet daemon must run there too (`NodeMounts.enter`).
 * `nsenter --net`, not `ip netns exec`: the latter remounts /sys and hides the cgroup tree runc needs.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { CriClient } from './containerd-cri.ts';
import { PLUGIN_ENV } from './netns.ts';
import { SANDBOX_IMAGE } from './sandbox-image.ts';

const run = promisify(execFile);
/** Host paths containerd writes to regardless of its config; test directories are mounted over them. */
const PRIVATE_PATHS = ['/var/lib/cni', '/run/containerd'];

/** Why this machine cannot run containerd tests, or undefined. */
export async function missingRuntimePrerequisite(): Promise<string | undefined> {
  const has = (bin: string): Promise<boolean> =>
    run('sh', ['-c', `command -v ${bin}`], { env: { PATH: `${PLUGIN_ENV.PATH}:/usr/local/go/bin` } }).then(
      () => true,
      () => false,
    );
  for (const bin of ['containerd', 'containerd-shim-runc-v2', 'runc', 'ctr', 'gcc', 'unshare', 'nsenter'])
    if (!(await has(bin))) return `${bin} not installed (scripts/setup.sh installs it)`;
  const libc = await run('gcc', ['-print-file-name=libc.a']).then(
    (r) => r.stdout.trim(),
    () => '',
  );
  if (!libc.startsWith('/')) return 'static libc not installed (libc6-dev; scripts/setup.sh installs it)';
  if (!(await has('go')))
    return 'go not installed (the CRI client needs k8s.io/cri-api from the Go module proxy)';
  return undefined;
}

/** A private mount namespace inside the node's network namespace, kept alive by a holder process. */
export class NodeMounts {
  private constructor(
    private readonly holder: ChildProcess,
    readonly pid: number,
    private readonly createdMountPoints: string[],
  ) {}

  /** `dir` receives var-lib-cni/ and run-containerd/, the contents of the private paths. */
  static async start(nodePath: string, dir: string): Promise<NodeMounts> {
    const binds: string[] = [];
    const created: string[] = [];
    for (const target of PRIVATE_PATHS) {
      const source = join(dir, target.slice(1).replaceAll('/', '-'));
      await mkdir(source, { recursive: true });
      // A bind mount needs a mount point; one created here is removed at stop.
      if (!existsSync(target)) {
        await mkdir(target, { recursive: true });
        created.push(target);
      }
      binds.push(`mount --bind '${source}' '${target}'`);
    }
    // nsenter and unshare exec in place, so the child's PID ends up being `sleep`.
    const holder = spawn(
      'nsenter',
      [
        `--net=${nodePath}`,
        '--',
        'unshare',
        '--mount',
        '--propagation',
        'slave',
        'sh',
        '-c',
        `${binds.join(' && ')} && exec sleep infinity`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], env: PLUGIN_ENV },
    );
    let stderr = '';
    holder.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const mounts = new NodeMounts(holder, holder.pid!, created);
    // Last resort when the test process ends without its after-hooks.
    process.once('exit', () => {
      if (holder.exitCode === null && holder.signalCode === null) killQuietly(mounts.pid);
    });
    const deadline = Date.now() + 5_000;
    while ((await readFile(`/proc/${mounts.pid}/comm`, 'utf8').catch(() => '')).trim() !== 'sleep') {
      if (holder.exitCode !== null || Date.now() > deadline) {
        await mounts.stop();
        throw new Error(`mount namespace holder did not start: ${stderr}`);
      }
      await sleep(10);
    }
    return mounts;
  }

  /** Command prefix that runs a program in the node's network namespace and the private mounts. */
  enter(): string[] {
    return ['nsenter', `--mount=/proc/${this.pid}/ns/mnt`, `--net=/proc/${this.pid}/ns/net`, '--'];
  }

  async stop(): Promise<void> {
    if (this.holder.exitCode === null && this.holder.signalCode === null) {
      const exited = new Promise((r) => this.holder.once('exit', r));
      this.holder.kill('SIGKILL');
      await exited;
    }
    for (const d of this.createdMountPoints) await rmdir(d).catch(() => undefined);
  }
}

export interface ContainerdOptions {
  /** Holds root, state, config, socket and log. */
  dir: string;
  cniBinDir: string;
  cniConfDir: string;
}

export class Containerd {
  readonly cri: CriClient;

  private constructor(
    private readonly proc: ChildProcess,
    readonly socket: string,
    readonly stateDir: string,
    readonly logFile: string,
  ) {
    this.cri = new CriClient(socket);
  }

  static async start(mounts: NodeMounts, o: ContainerdOptions): Promise<Containerd> {
    const root = join(o.dir, 'root');
    const state = join(o.dir, 'state');
    const socket = join(o.dir, 'containerd.sock');
    for (const d of [root, state, join(o.dir, 'opt')]) await mkdir(d, { recursive: true });
    const configFile = join(o.dir, 'containerd.toml');
    await writeFile(configFile, containerdConfig({ ...o, root, state, socket }));
    const logFile = join(o.dir, 'containerd.log');
    const log = openSync(logFile, 'a');
    // A clean environment: the runtime passes it to the plugins (NODE_EXTRA_CA_CERTS slows Node down).
    const proc = spawn(
      mounts.enter()[0]!,
      [...mounts.enter().slice(1), 'containerd', '--config', configFile],
      {
        stdio: ['ignore', log, log],
        env: PLUGIN_ENV,
      },
    );
    closeSync(log);
    const ctr = new Containerd(proc, socket, state, logFile);
    process.once('exit', () => ctr.killSync());
    const deadline = Date.now() + 20_000;
    for (;;) {
      const up =
        existsSync(socket) &&
        (await ctr.cri.call('Version', {}, 1_000).then(
          () => true,
          () => false,
        ));
      if (up) return ctr;
      if (proc.exitCode !== null || Date.now() > deadline) {
        await ctr.stop();
        throw new Error(`containerd did not start:\n${await ctr.logTail()}`);
      }
      await sleep(50);
    }
  }

  /** `ctr images import` into the CRI's namespace. */
  async importImage(tarball: string): Promise<void> {
    await run('ctr', ['--address', this.socket, '-n', 'k8s.io', 'images', 'import', tarball], {
      env: PLUGIN_ENV,
    });
  }

  /** Where the CRI plugin mounts pod network namespaces (netns_mounts_under_state_dir). */
  get netnsDir(): string {
    return join(this.stateDir, 'io.containerd.grpc.v1.cri', 'netns');
  }

  /** Pod netns files containerd still has (host view: the empty files it mounts the namespaces on). */
  async netnsFiles(): Promise<string[]> {
    return readdir(this.netnsDir).catch(() => []);
  }

  async logTail(lines = 40): Promise<string> {
    const text = await readFile(this.logFile, 'utf8').catch(() => '');
    return text.split('\n').slice(-lines).join('\n');
  }

  /** For the process' exit hook: no CRI, no waiting. */
  killSync(): void {
    if (this.proc.pid !== undefined && this.proc.exitCode === null && this.proc.signalCode === null)
      killQuietly(this.proc.pid);
    for (const shim of pidsWhereSync((cmd) => cmd.includes(`\0-address\0${this.socket}\0`))) {
      for (const child of pidsWhereSync((_cmd, ppid) => ppid === shim)) killQuietly(child);
      killQuietly(shim);
    }
  }

  /**
   * Removes every sandbox through the CRI (so the CNI DELs run while the daemon is still up),
   * then stops containerd and kills what a failed test may have left: shims and their pause
   * processes, found by the shim's -address argument. Safe to call twice.
   */
  async stop(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      const ids = await this.cri.listPodSandboxIds().catch(() => []);
      for (const id of ids) await this.cri.stopAndRemove(id).catch(() => undefined);
      const exited = new Promise((r) => this.proc.once('exit', r));
      this.proc.kill('SIGTERM');
      // Unref'd: a pending timer would keep the test process alive after the tests.
      if ((await Promise.race([exited, sleep(10_000, 'timeout', { ref: false })])) === 'timeout') {
        this.proc.kill('SIGKILL');
        await exited;
      }
    }
    this.cri.close();
    this.killSync();
  }
}

/** The containerd shims (containerd-shim-runc-v2) still serving sandboxes of this containerd. */
export function shimProcesses(socket: string): number[] {
  return pidsWhereSync((cmd) => cmd.includes(`\0-address\0${socket}\0`));
}

function containerdConfig(o: ContainerdOptions & { root: string; state: string; socket: string }): string {
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  const unused = ['btrfs', 'zfs', 'devmapper', 'aufs'].map((s) => `"io.containerd.snapshotter.v1.${s}"`);
  return `version = 2
root = "${o.root}"
state = "${o.state}"
disabled_plugins = [${[...unused, '"io.containerd.internal.v1.tracing"', '"io.containerd.tracing.processor.v1.otlp"'].join(', ')}]
[grpc]
  address = "${o.socket}"
[ttrpc]
  address = "${o.socket}.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "${join(o.dir, 'opt')}"
[${cri}]
  sandbox_image = "${SANDBOX_IMAGE}"
  # Root here lacks CAP_SYS_RESOURCE: without this every sandbox fails.
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  enable_selinux = false
  [${cri}.cni]
    bin_dir = "${o.cniBinDir}"
    conf_dir = "${o.cniConfDir}"
    max_conf_num = 1
  [${cri}.containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [${cri}.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
`;
}

/** Processes by command line and parent PID; synchronous so that the exit hook can use it. */
function pidsWhereSync(pred: (cmdline: string, ppid: number) => boolean): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // stat: "pid (comm) state ppid ..."; comm may hold spaces and parentheses.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (pred(cmd, ppid)) out.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return out;
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}
