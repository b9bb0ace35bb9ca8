/**
 * One node for a fault scenario: a test node namespace, the real multinet daemon (the shipped
 * bundle) started as a container runtime would start it, the real bundled shim as the CNI plugin,
 * the reference plugins plus the FAKE ones of test/support/fake-plugins, and `leftovers()`: every
 * place an attachment can leave something behind (pod namespaces, the node namespace's links,
 * host-local's store, multinet's caches, plugin processes).
 *
 * As the shipped DaemonSet runs it: `hostPID: true`, so the daemon is NOT PID 1 of a PID
 * namespace and nothing but multinet itself makes its delegates die with it (a PID namespace
 * would kill them all and hide exactly that). It has a private mount namespace in which a
 * scenario may mount a tmpfs or a read-only cache directory (gone with the daemon; the
 * machine's mounts are never touched).
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import {
  buildDaemonBundle,
  buildShim,
  daemonDirs,
  shimCall,
  startDaemon,
  type DaemonProcess,
  type DaemonSetup,
} from '../integration/daemon-harness.ts';
import type { CniOutcome } from './cni-runtime.ts';
import { REPO_ROOT } from './control-plane.ts';
import { allocations, ip, linksIn, NetnsTopology, PLUGIN_DIR, type PodNs } from './netns.ts';

const run = promisify(execFile);

export const FAKE_PLUGIN_DIR = join(REPO_ROOT, 'test/support/fake-plugins');

let thinBundle: string | undefined;
/**
 * The thin plugin's bundle (package.json build:thin), built from this checkout into a private
 * directory once per process and run under node: the suite tests the source it runs on, never a
 * stale dist/. The shipped Bun executable is compiled from this same bundle (build:thin-bin); the
 * tests that go through THIN_PLUGIN (cni-runtime.ts) run that executable.
 */
export function buildThinPlugin(): string[] {
  if (!thinBundle) {
    const script = (
      JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
    ).scripts['build:thin'];
    const shipped = 'dist/multinet-cni.cjs';
    if (!script?.includes(shipped)) throw new Error(`package.json build:thin does not write ${shipped}`);
    const dir = mkdtempSync(join(tmpdir(), 'mn-thin-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    const out = join(dir, basename(shipped));
    execFileSync('sh', ['-c', script.replaceAll(shipped, out)], {
      cwd: REPO_ROOT,
      stdio: 'ignore',
      env: { ...process.env, PATH: `${join(REPO_ROOT, 'node_modules/.bin')}:${process.env['PATH']}` },
    });
    thinBundle = out;
  }
  return [process.execPath, thinBundle];
}

export interface Leftovers {
  podLinks: string[];
  nodeLinks: string[];
  ips: string[];
  cache: string[];
  processes: string[];
}

export const NOTHING: Leftovers = { podLinks: [], nodeLinks: [], ips: [], cache: [], processes: [] };

/** Flattens leftovers for the report ("pod1:net1", "ip podnet:10.1.0.2", ...). */
export function leakList(l: Leftovers): string[] {
  return [
    ...l.podLinks.map((x) => `link ${x}`),
    ...l.nodeLinks.map((x) => `node link ${x}`),
    ...l.ips.map((x) => `ip ${x}`),
    ...l.cache.map((x) => `cache ${x}`),
    ...l.processes.map((x) => `process ${x}`),
  ];
}

export interface SceneOptions {
  /** The primary network (written to the runtime's conf dir; auto-config points multinet at it). */
  primary: Record<string, unknown>;
  /** Other CNI configs by file name, in multinet's confDir (for defaultNetworks / clusterNetwork by name). */
  networks?: Record<string, Record<string, unknown>>;
  /** Daemon config keys (on top of the harness defaults). */
  daemon?: Record<string, unknown>;
  /** Shell run in the daemon's private mount namespace before it starts ($CACHE is its cacheDir). */
  mountSetup?: string;
  /** Bridges the networks create in the node namespace (expected to stay after DEL). */
  bridges?: string[];
  /** Names of further networks (NADs) whose host-local reservations leftovers() checks. */
  ipamNetworks?: string[];
}

export class FaultScene {
  daemon: DaemonProcess | undefined;
  shimConf: Record<string, unknown> = {};
  readonly multinetConfDir: string;
  readonly pidDir: string;
  private nodeBaseline: string[] = [];
  private networkNames = new Set<string>();

  private constructor(
    readonly t: TestContext,
    readonly topo: NetnsTopology,
    readonly setup: DaemonSetup,
    readonly opts: SceneOptions,
  ) {
    this.multinetConfDir = join(topo.tmpDir, 'multinet.d');
    this.pidDir = join(topo.tmpDir, 'pids');
  }

  static async create(t: TestContext, build: (topo: NetnsTopology) => SceneOptions): Promise<FaultScene> {
    buildShim();
    const topo = await NetnsTopology.create(t);
    const setup = await daemonDirs(topo);
    const opts = build(topo);
    const s = new FaultScene(t, topo, setup, opts);
    await mkdir(s.multinetConfDir, { recursive: true });
    await mkdir(s.pidDir, { recursive: true });
    // Runs before the topology's cleanup (hooks run in reverse): no plugin process survives a test.
    t.after(() => s.killStrays());
    await writeFile(join(setup.confDir, '10-primary.conflist'), JSON.stringify(opts.primary));
    s.networkNames.add(String(opts.primary['name']));
    for (const n of opts.ipamNetworks ?? []) s.networkNames.add(n);
    for (const [file, conf] of Object.entries(opts.networks ?? {})) {
      await writeFile(join(s.multinetConfDir, file), JSON.stringify(conf));
      s.networkNames.add(String(conf['name']));
    }
    s.nodeBaseline = (await linksIn(topo.node)).map((l) => l.ifname);
    return s;
  }

  /** Where this scene's multinet keeps its caches (inside the daemon's mount namespace). */
  get cacheDir(): string {
    return this.topo.cacheDir;
  }

  /** Starts a daemon (the previous one must be gone) and, unless told not to, waits until it listens. */
  async start(
    extra: Record<string, unknown> = {},
    opts: { waitReady?: boolean } = {},
  ): Promise<DaemonProcess> {
    // Without a mount to prepare, the daemon creates its cache directory itself (modes are tested).
    const setupScript = this.opts.mountSetup
      ? `CACHE=${JSON.stringify(this.cacheDir)}\nmkdir -p "$CACHE"\n${this.opts.mountSetup}`
      : 'true';
    // nsenter, unshare and sh all exec: the daemon keeps the pid spawned here.
    const command = [
      'unshare',
      '--mount',
      '--propagation',
      'slave',
      'sh',
      '-ec',
      `${setupScript}\nexec "$@"`,
      'multinet-daemon',
      ...buildDaemonBundle(),
    ];
    this.daemon = await startDaemon(
      this.t,
      this.topo,
      this.setup,
      {
        binDirs: [FAKE_PLUGIN_DIR, PLUGIN_DIR],
        confDir: this.multinetConfDir,
        ...this.opts.daemon,
        ...extra,
      },
      { command, waitReady: opts.waitReady !== false },
    );
    if (opts.waitReady === false) return this.daemon;
    const conf = await this.waitForFile(join(this.setup.confDir, '00-multinet.conflist'));
    this.shimConf = JSON.parse(conf) as Record<string, unknown>;
    return this.daemon;
  }

  /** The daemon's pid. */
  daemonPid(): number {
    const d = this.daemon;
    if (!d?.proc.pid) throw new Error('no daemon');
    return d.proc.pid;
  }

  /** SIGKILL as the kubelet or the OOM killer would (with hostPID: only the daemon process). */
  async kill(): Promise<void> {
    const d = this.daemon;
    if (!d || d.exitCode !== undefined) return;
    process.kill(this.daemonPid(), 'SIGKILL');
    await d.exited;
  }

  /** SIGTERM to the daemon; its exit code. */
  async terminate(): Promise<number | null> {
    const d = this.daemon;
    if (!d || d.exitCode !== undefined) return d?.exitCode ?? null;
    process.kill(this.daemonPid(), 'SIGTERM');
    return d.exited;
  }

  /** A path of the daemon's view of the file system (its private mounts included). */
  daemonPath(path: string): string {
    const d = this.daemon;
    return d && d.exitCode === undefined ? `/proc/${this.daemonPid()}/root${path}` : path;
  }

  /** Runs a shell command in the daemon's mount namespace (e.g. to remount its cache read-only). */
  async inDaemonMounts(script: string): Promise<string> {
    const { stdout } = await run('nsenter', [
      `--mount=/proc/${this.daemonPid()}/ns/mnt`,
      'sh',
      '-ec',
      script,
    ]);
    return stdout;
  }

  fdCount(): number {
    return readdirSync(`/proc/${this.daemonPid()}/fd`).length;
  }

  rssBytes(): number {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${this.daemonPid()}/status`, 'utf8'));
    return Number(m?.[1] ?? 0) * 1024;
  }

  call(
    command: 'ADD' | 'DEL' | 'CHECK',
    containerId: string,
    pod: PodNs | undefined,
    args: Record<string, string> = podArgs(containerId),
  ): Promise<CniOutcome> {
    return shimCall(this.topo, this.shimConf, {
      command,
      containerId,
      netns: pod?.path ?? '',
      ifName: 'eth0',
      args,
    });
  }

  async podLinks(pod: PodNs): Promise<string[]> {
    return (await linksIn(pod.name)).map((l) => l.ifname).filter((n) => n !== 'lo');
  }

  /** Everything an attachment could have left behind; NOTHING when clean. */
  async leftovers(pods: PodNs[]): Promise<Leftovers> {
    const podLinks: string[] = [];
    for (const p of pods) podLinks.push(...(await this.podLinks(p)).map((l) => `${p.name}:${l}`));
    const expectedNode = new Set([...this.nodeBaseline, ...(this.opts.bridges ?? [])]);
    const nodeLinks = (await linksIn(this.topo.node))
      .map((l) => l.ifname)
      .filter((n) => !expectedNode.has(n));
    const ips: string[] = [];
    for (const n of this.networkNames)
      ips.push(...(await allocations(this.topo.dataDir, n)).map((a) => `${n}:${a}`));
    const cache: string[] = [];
    for (const sub of ['plans', 'results'])
      cache.push(
        ...(await readdir(join(this.daemonPath(this.cacheDir), sub)).catch(() => [] as string[])).map(
          (f) => `${sub}/${f}`,
        ),
      );
    return { podLinks, nodeLinks, ips, cache, processes: this.strayProcesses().map(String) };
  }

  /** Plugin processes of this scene's pods still running (found by their CNI_NETNS). */
  strayProcesses(): number[] {
    const marker = `CNI_NETNS=/run/netns/${this.topo.prefix}-`;
    const out: number[] = [];
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      try {
        if (readFileSync(`/proc/${name}/environ`, 'latin1').includes(marker)) out.push(Number(name));
      } catch {
        // Gone meanwhile.
      }
    }
    return out;
  }

  async killStrays(): Promise<void> {
    for (const pid of this.strayProcesses()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone meanwhile.
      }
    }
    for (const f of await readdir(this.pidDir).catch(() => [] as string[])) {
      const pid = Number((await readFile(join(this.pidDir, f), 'utf8')).trim());
      try {
        if (pid) process.kill(pid, 'SIGKILL');
      } catch {
        // Gone.
      }
    }
  }

  async waitForFile(path: string, ms = 15_000): Promise<string> {
    const end = Date.now() + ms;
    for (;;) {
      try {
        return await readFile(path, 'utf8');
      } catch (err) {
        if (Date.now() > end) throw err;
        await sleep(50);
      }
    }
  }

  /** Adds an extra veth pair in the node namespace (more macvlan masters). */
  async addNodeLink(name: string): Promise<void> {
    await ip('-n', this.topo.node, 'link', 'add', name, 'type', 'veth', 'peer', 'name', `${name}p`);
    await ip('-n', this.topo.node, 'link', 'set', name, 'up');
    this.nodeBaseline.push(name, `${name}p`);
  }
}

/** Pids of plugin processes running for `containerId` on interface `ifName` (their CNI_* env). */
export function delegatesOf(containerId: string, ifName: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const env = readFileSync(`/proc/${name}/environ`, 'latin1').split('\0');
      if (env.includes(`CNI_CONTAINERID=${containerId}`) && env.includes(`CNI_IFNAME=${ifName}`))
        out.push(Number(name));
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

export function podArgs(name: string, namespace = 'default', uid = `uid-${name}`): Record<string, string> {
  return {
    IgnoreUnknown: '1',
    K8S_POD_NAMESPACE: namespace,
    K8S_POD_NAME: name,
    K8S_POD_INFRA_CONTAINER_ID: name,
    K8S_POD_UID: uid,
  };
}

/** A bridge network with host-local in the topology's store (no portmap: no iptables needed). */
export function bridgeNet(
  topo: NetnsTopology,
  name: string,
  subnet: string,
  bridge: string,
  plugin: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    cniVersion: '1.0.0',
    name,
    plugins: [
      {
        type: 'bridge',
        bridge,
        isGateway: true,
        ipam: { type: 'host-local', ranges: [[{ subnet }]], dataDir: topo.dataDir },
        ...plugin,
      },
    ],
  };
}

/** A single-plugin network: `type` (real or fake) with host-local in the topology's store. */
export function simpleNet(
  topo: NetnsTopology,
  name: string,
  type: string,
  subnet: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    cniVersion: '1.0.0',
    name,
    type,
    ...(type === 'macvlan' || extra['fakeDelegate'] === 'macvlan' ? { master: 'ens1', mode: 'bridge' } : {}),
    ipam: { type: 'host-local', ranges: [[{ subnet }]], dataDir: topo.dataDir },
    ...extra,
  };
}
