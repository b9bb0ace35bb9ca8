/**
 * A real container runtime for the thick-mode e2e: containerd + runc (Debian packages) in a test
 * node namespace and a private mount namespace, a locally built sandbox image (static C pause,
 * packed as an OCI image layout), and a CRI client (@grpc/grpc-js with the runtime.v1 api.proto
 * of the Go module k8s.io/cri-api, fetched through the Go module proxy). Settings follow
 * shared/reference/test-environment.md.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, rmdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { PLUGIN_DIR, PLUGIN_ENV } from '../support/netns.ts';

const run = promisify(execFile);
export const SANDBOX_IMAGE = 'registry.k8s.io/pause:3.6';
const CRI_API_MODULE = 'k8s.io/cri-api@v0.37.2';

/** Why this machine cannot run the test, or undefined. */
export function missingPrerequisite(): string | undefined {
  for (const bin of ['containerd', 'runc', 'ctr', 'gcc', 'go', 'unshare']) {
    try {
      execFileSync('sh', ['-c', `command -v ${bin}`], {
        stdio: 'ignore',
        env: { PATH: `${PLUGIN_ENV.PATH}:/usr/local/go/bin` },
      });
    } catch {
      return `${bin} not installed`;
    }
  }
  return undefined;
}

/** runtime.v1 api.proto from the Go module cache (downloaded through the Go module proxy if needed). */
export function criProtoPath(): string {
  const out = execFileSync('go', ['mod', 'download', '-json', CRI_API_MODULE], {
    encoding: 'utf8',
    env: { ...process.env, PATH: `${process.env['PATH']}:/usr/local/go/bin`, GOFLAGS: '-mod=mod' },
    cwd: '/',
  });
  return join((JSON.parse(out) as { Dir: string }).Dir, 'pkg/apis/runtime/v1/api.proto');
}

const PAUSE_C = `#include <signal.h>
#include <unistd.h>
static void quit(int s) { (void)s; _exit(0); }
int main(void) {
  signal(SIGINT, quit);
  signal(SIGTERM, quit);
  for (;;) pause();
}
`;

function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Builds the pause image as an OCI image-layout tarball; returns its path. */
export async function buildPauseImage(dir: string): Promise<string> {
  const work = join(dir, 'pause-image');
  const rootfs = join(work, 'rootfs');
  const layout = join(work, 'layout');
  await mkdir(rootfs, { recursive: true });
  await mkdir(join(layout, 'blobs', 'sha256'), { recursive: true });
  await writeFile(join(work, 'pause.c'), PAUSE_C);
  await run('gcc', ['-static', '-Os', '-o', join(rootfs, 'pause'), join(work, 'pause.c')]);
  await run('tar', [
    '--numeric-owner',
    '--owner=0',
    '--group=0',
    '--mtime=@0',
    '-C',
    rootfs,
    '-cf',
    join(work, 'layer.tar'),
    'pause',
  ]);
  const layer = await readFile(join(work, 'layer.tar'));
  const layerDigest = sha256(layer);
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Entrypoint: ['/pause'] },
      rootfs: { type: 'layers', diff_ids: [`sha256:${layerDigest}`] },
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: `sha256:${sha256(config)}`,
        size: config.length,
      },
      layers: [
        {
          mediaType: 'application/vnd.oci.image.layer.v1.tar',
          digest: `sha256:${layerDigest}`,
          size: layer.length,
        },
      ],
    }),
  );
  for (const blob of [layer, config, manifest])
    await writeFile(join(layout, 'blobs', 'sha256', sha256(blob)), blob);
  await writeFile(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(
    join(layout, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: `sha256:${sha256(manifest)}`,
          size: manifest.length,
          platform: { architecture: 'amd64', os: 'linux' },
          annotations: {
            'io.containerd.image.name': SANDBOX_IMAGE,
            'org.opencontainers.image.ref.name': '3.6',
          },
        },
      ],
    }),
  );
  const tarball = join(work, 'pause.tar');
  await run('tar', ['-C', layout, '-cf', tarball, 'oci-layout', 'index.json', 'blobs']);
  return tarball;
}

export interface Containerd {
  socket: string;
  /** PID of the process holding the private mount namespace that containerd, the daemon and the pods share. */
  mountHolder: number;
  stateDir: string;
  /** Command prefix that enters the shared mount namespace (for the daemon). */
  inMounts: string[];
  /** Runs a command in the node's network namespace and the shared mount namespace. */
  exec(args: string[], netns?: string): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Starts containerd in the node's network namespace and a private mount namespace (a holder
 * process keeps it; /var/lib/cni and /run/containerd are test directories there), with the
 * given CNI bin and conf dirs. The daemon must join the same mount namespace: containerd mounts
 * pod network namespaces under its state dir, visible only there.
 */
export async function startContainerd(opts: {
  dir: string;
  nodePath: string;
  cniBinDir: string;
  cniConfDir: string;
}): Promise<Containerd> {
  const { dir } = opts;
  const root = join(dir, 'containerd-root');
  const state = join(dir, 'containerd-state');
  const socket = join(dir, 'containerd.sock');
  for (const d of [root, state, join(dir, 'var-lib-cni'), join(dir, 'run-containerd'), join(dir, 'opt')])
    await mkdir(d, { recursive: true });
  const configFile = join(dir, 'containerd.toml');
  await writeFile(
    configFile,
    `version = 2
root = "${root}"
state = "${state}"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs", "io.containerd.internal.v1.tracing", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "${socket}"
[ttrpc]
  address = "${socket}.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "${join(dir, 'opt')}"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${SANDBOX_IMAGE}"
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "${opts.cniBinDir}"
    conf_dir = "${opts.cniConfDir}"
    max_conf_num = 1
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
`,
  );
  // Mount points for the test directories; removed again at stop if this test created them.
  const created: string[] = [];
  for (const d of ['/var/lib/cni', '/run/containerd'])
    if (!existsSync(d)) {
      await mkdir(d, { recursive: true });
      created.push(d);
    }
  const holder = spawn(
    'nsenter',
    [
      `--net=${opts.nodePath}`,
      '--',
      'unshare',
      '--mount',
      '--propagation',
      'private',
      'sh',
      '-c',
      `mount --bind ${join(dir, 'var-lib-cni')} /var/lib/cni && mount --bind ${join(dir, 'run-containerd')} /run/containerd && exec sleep infinity`,
    ],
    { stdio: 'ignore', env: PLUGIN_ENV },
  );
  const holderPid = await holderSleepPid(holder);
  // nsenter opens every namespace file before entering any, so a pod netns (mounted only inside
  // the private mount namespace) is entered in a second step, from inside.
  const inMounts = ['nsenter', `--mount=/proc/${holderPid}/ns/mnt`, '--'];
  const enter = (netns?: string) => [...inMounts, 'nsenter', `--net=${netns ?? opts.nodePath}`, '--'];
  const log = join(dir, 'containerd.log');
  const proc: ChildProcess = spawn(
    'sh',
    ['-c', `exec "$@" > ${log} 2>&1`, 'sh', ...enter(), 'containerd', '--config', configFile],
    {
      stdio: 'ignore',
      env: PLUGIN_ENV,
    },
  );
  const exited = new Promise<void>((r) => proc.on('exit', () => r()));
  const deadline = Date.now() + 20_000;
  while (!existsSync(socket)) {
    if (Date.now() > deadline || proc.exitCode !== null)
      throw new Error(`containerd did not start:\n${await readFile(log, 'utf8').catch(() => '')}`);
    await sleep(50);
  }
  return {
    socket,
    mountHolder: holderPid,
    stateDir: state,
    inMounts,
    exec: async (args, netns) =>
      (await run(enter(netns)[0]!, [...enter(netns).slice(1), ...args], { env: PLUGIN_ENV })).stdout,
    stop: async () => {
      if (proc.exitCode === null) {
        proc.kill('SIGTERM');
        await Promise.race([exited, sleep(10_000)]);
        if (proc.exitCode === null) proc.kill('SIGKILL');
      }
      // Shims of sandboxes a failed test left behind (found by their -address, killed by PID).
      for (const pid of await shimPids(socket)) process.kill(pid, 'SIGKILL');
      holder.kill('SIGKILL');
      await new Promise((r) => (holder.exitCode !== null ? r(undefined) : holder.on('exit', r)));
      for (const d of created) await rmdir(d).catch(() => undefined);
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    },
  };
}

async function shimPids(socket: string): Promise<number[]> {
  const out: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmd = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmd.startsWith('/usr/bin/containerd-shim') && cmd.includes(`\0${socket}\0`)) out.push(Number(entry));
  }
  return out;
}

/** `unshare ... exec sleep` replaces the shell: wait until the holder's PID runs sleep. */
async function holderSleepPid(holder: ChildProcess): Promise<number> {
  // nsenter and unshare exec in place, so the child's PID becomes the sleep process.
  const pid = holder.pid!;
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    const comm = await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '');
    if (comm.trim() === 'sleep') return pid;
    await sleep(20);
  }
  throw new Error('mount namespace holder did not start');
}

/** The CNI bin dir containerd sees: the reference plugins plus the bundled shim. */
export async function cniBinDir(dir: string, shim: string): Promise<string> {
  const bin = join(dir, 'cni-bin');
  await mkdir(bin, { recursive: true });
  for (const p of await readdir(PLUGIN_DIR)) await symlink(join(PLUGIN_DIR, p), join(bin, p));
  // Installed without package.json beside it, as on a host (it then loads as a plain script).
  await writeFile(join(bin, 'multinet-shim'), await readFile(shim), { mode: 0o755 });
  return bin;
}

export async function importImage(ctr: Containerd, tarball: string): Promise<void> {
  await ctr.exec(['ctr', '--address', ctr.socket, '-n', 'k8s.io', 'images', 'import', tarball]);
}

type Callback = (err: grpc.ServiceError | null, res: Record<string, unknown>) => void;
type Unary = (req: Record<string, unknown>, cb: Callback) => void;

/** A CRI RuntimeService client over containerd's socket. */
export class CriClient {
  private readonly client: grpc.Client & Record<string, Unary>;

  constructor(socket: string, protoPath: string) {
    const def = protoLoader.loadSync(protoPath, {
      keepCase: true,
      longs: String,
      enums: Number,
      defaults: true,
    });
    const pkg = grpc.loadPackageDefinition(def) as unknown as {
      runtime: {
        v1: {
          RuntimeService: new (
            addr: string,
            creds: grpc.ChannelCredentials,
          ) => grpc.Client & Record<string, Unary>;
        };
      };
    };
    this.client = new pkg.runtime.v1.RuntimeService(`unix://${socket}`, grpc.credentials.createInsecure());
  }

  call(method: string, req: Record<string, unknown>): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const fn = this.client[method]!.bind(this.client) as Unary;
      fn(req, (err, res) => (err ? reject(err) : resolve(res)));
    });
  }

  close(): void {
    this.client.close();
  }
}

export interface SandboxSpec {
  name: string;
  namespace: string;
  uid: string;
  annotations?: Record<string, string>;
  logDir: string;
}

export function sandboxConfig(s: SandboxSpec): Record<string, unknown> {
  return {
    metadata: { name: s.name, namespace: s.namespace, uid: s.uid, attempt: 0 },
    hostname: s.name,
    log_directory: s.logDir,
    annotations: s.annotations ?? {},
    labels: {},
    linux: { security_context: { namespace_options: { network: 0, pid: 0, ipc: 0 } } },
  };
}

/** The sandbox's network namespace path, from the verbose status (containerd's runtime spec). */
export function sandboxNetnsPath(status: Record<string, unknown>): string {
  const info = status['info'] as Record<string, string>;
  const parsed = JSON.parse(info['info'] ?? '{}') as {
    runtimeSpec?: { linux?: { namespaces?: { type: string; path?: string }[] } };
  };
  const ns = parsed.runtimeSpec?.linux?.namespaces?.find((n) => n.type === 'network');
  if (!ns?.path)
    throw new Error(`no network namespace in the sandbox status: ${JSON.stringify(info).slice(0, 500)}`);
  return ns.path;
}
