/**
 * Network-namespace topology for integration tests that exec the real CNI plugins.
 *
 * Safety rules (hard): nothing here touches the root namespace's links, routes or eth0. A test
 * gets its own "node" namespace (holding a veth pair `ens1`/`ens1p`, both UP, as macvlan master)
 * and pod namespaces; delegates run inside the node namespace through the runner wrapper
 * (`nsenter --net=/run/netns/NODE --`) so bridges, host-side veths and iptables rules land there.
 * Deleting the namespaces removes every link and rule; temp dirs hold host-local's dataDir and
 * the result cache, so nothing touches /var/lib/cni. Cleanup runs from `t.after` (also when the
 * test failed) and, as a last resort, when the process exits.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { promisify } from 'node:util';
import { NetworkListRunner, type RuntimeConf } from '../../src/cni/network-list-runner.ts';
import { ChildProcessRunner } from '../../src/host/child-process-runner.ts';
import { FileResultCache } from '../../src/host/file-result-cache.ts';
import { FsPluginLocator } from '../../src/host/fs-plugin-locator.ts';

const run = promisify(execFile);

export const PLUGIN_DIR = '/usr/lib/cni';
/** Plugins need PATH for iptables (portmap, ipMasq); nothing else of ours leaks into them. */
export const PLUGIN_ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' };

let counter = 0;
const live = new Set<string>();
let exitHookInstalled = false;

export interface PodNs {
  name: string;
  /** The CNI_NETNS value. */
  path: string;
}

export interface IpAddrInfo {
  family: 'inet' | 'inet6';
  local: string;
  prefixlen: number;
}
export interface IpLink {
  ifname: string;
  address?: string;
  mtu?: number;
  operstate?: string;
  link_type?: string;
  flags?: string[];
  linkinfo?: { info_kind?: string };
  addr_info?: IpAddrInfo[];
}

export class NetnsTopology {
  readonly prefix: string;
  readonly node: string;
  readonly nodePath: string;
  readonly master = 'ens1';
  readonly cniPath = [PLUGIN_DIR];
  readonly pods: PodNs[] = [];
  private podCount = 0;

  private constructor(
    readonly tmpDir: string,
    readonly dataDir: string,
    readonly cacheDir: string,
  ) {
    this.prefix = `mn-${process.pid}-${++counter}`;
    this.node = `${this.prefix}-node`;
    this.nodePath = `/run/netns/${this.node}`;
  }

  /** Builds the node namespace and registers cleanup on `t`. */
  static async create(t: TestContext): Promise<NetnsTopology> {
    const tmp = await mkdtemp(join(tmpdir(), 'mn-it-'));
    const topo = new NetnsTopology(tmp, join(tmp, 'ipam'), join(tmp, 'cache'));
    t.after(() => topo.cleanup());
    installExitHook();
    await addNamespace(topo.node);
    await ip('-n', topo.node, 'link', 'set', 'lo', 'up');
    await ip('-n', topo.node, 'link', 'add', 'ens1', 'type', 'veth', 'peer', 'name', 'ens1p');
    await ip('-n', topo.node, 'link', 'set', 'ens1', 'up');
    await ip('-n', topo.node, 'link', 'set', 'ens1p', 'up');
    return topo;
  }

  async addPod(): Promise<PodNs> {
    const name = `${this.prefix}-pod${++this.podCount}`;
    await addNamespace(name);
    await ip('-n', name, 'link', 'set', 'lo', 'up');
    const pod = { name, path: `/run/netns/${name}` };
    this.pods.push(pod);
    return pod;
  }

  /** Deletes a pod namespace early (e.g. to test DEL after the pod is gone). */
  async removePod(pod: PodNs): Promise<void> {
    await deleteNamespace(pod.name);
  }

  /** A runner whose plugins run inside the node namespace. */
  runner(): ChildProcessRunner {
    return new ChildProcessRunner({ wrapper: ['nsenter', `--net=${this.nodePath}`, '--'] });
  }

  listRunner(options: { timeoutMs?: number; negotiateVersions?: boolean } = {}): NetworkListRunner {
    return new NetworkListRunner({
      runner: this.runner(),
      locator: new FsPluginLocator(),
      cache: new FileResultCache(this.cacheDir),
      timeoutMs: options.timeoutMs ?? 10_000,
      baseEnv: PLUGIN_ENV,
      ...(options.negotiateVersions !== undefined ? { negotiateVersions: options.negotiateVersions } : {}),
    });
  }

  /** Attachment parameters for a pod, with the real plugin directory. */
  runtimeConf(pod: PodNs, ifName = 'eth0', extra: Partial<RuntimeConf> = {}): RuntimeConf {
    return {
      containerId: `${pod.name}-ctr`,
      netns: pod.path,
      ifName,
      args: [
        ['IgnoreUnknown', '1'],
        ['K8S_POD_NAMESPACE', 'default'],
        ['K8S_POD_NAME', pod.name],
      ],
      capabilityArgs: {},
      cniPath: this.cniPath,
      ...extra,
    };
  }

  /** Removes every namespace (and with them every link and rule) and the temp dir. Idempotent. */
  async cleanup(): Promise<void> {
    for (const pod of this.pods) await deleteNamespace(pod.name);
    await deleteNamespace(this.node);
    await rm(this.tmpDir, { recursive: true, force: true });
    const left = (await listNamespaces()).filter((n) => n.startsWith(`${this.prefix}-`));
    if (left.length > 0) throw new Error(`namespaces left behind: ${left.join(', ')}`);
  }
}

export async function ip(...args: string[]): Promise<string> {
  return (await run('ip', args)).stdout;
}

/** Runs a command with its network namespace set to `ns` (mount namespace untouched). */
export async function inNetns(ns: string, command: string[]): Promise<string> {
  return (await run('nsenter', [`--net=/run/netns/${ns}`, '--', ...command], { env: PLUGIN_ENV })).stdout;
}

/** `ip -j -n NS addr`: links with their addresses. */
export async function linksIn(ns: string): Promise<IpLink[]> {
  return JSON.parse(await ip('-d', '-j', '-n', ns, 'addr')) as IpLink[];
}

export async function linkIn(ns: string, ifname: string): Promise<IpLink | undefined> {
  return (await linksIn(ns)).find((l) => l.ifname === ifname);
}

/** "10.1.0.5/24" style IPv4/IPv6 addresses of one interface (no link-local). */
export async function addressesOf(ns: string, ifname: string): Promise<string[]> {
  const link = await linkIn(ns, ifname);
  return (link?.addr_info ?? [])
    .filter((a) => !a.local.startsWith('fe80:'))
    .map((a) => `${a.local}/${a.prefixlen}`);
}

export async function routesIn(
  ns: string,
  family: '-4' | '-6' = '-4',
): Promise<{ dst: string; gateway?: string; dev?: string }[]> {
  return JSON.parse(await ip(family, '-j', '-n', ns, 'route')) as {
    dst: string;
    gateway?: string;
    dev?: string;
  }[];
}

/** host-local's reservations for a network: the IP-named files in `<dataDir>/<network>/`. */
export async function allocations(dataDir: string, network: string): Promise<string[]> {
  try {
    const names = await readdir(join(dataDir, network));
    return names.filter((n) => n !== 'lock' && !n.startsWith('last_reserved_ip')).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

export async function listNamespaces(): Promise<string[]> {
  const out = await ip('-j', 'netns', 'list');
  return out.trim() === '' ? [] : (JSON.parse(out) as { name: string }[]).map((n) => n.name);
}

async function addNamespace(name: string): Promise<void> {
  live.add(name);
  await ip('netns', 'add', name);
}

async function deleteNamespace(name: string): Promise<void> {
  if (!live.has(name)) return;
  try {
    await ip('netns', 'del', name);
  } catch (err) {
    if ((await listNamespaces()).includes(name)) throw err;
  }
  live.delete(name);
}

function removeLiveNamespaces(): void {
  for (const name of live) {
    try {
      execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
    } catch {
      // Already gone.
    }
  }
  live.clear();
}

/**
 * Last resort when a test process ends without running its after-hooks (uncaught error, exit(),
 * or Ctrl-C / SIGTERM, which end a process without an 'exit' event): remove what it made, then
 * let the signal do what it would have done.
 */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', removeLiveNamespaces);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    const onSignal = (): void => {
      removeLiveNamespaces();
      process.removeListener(sig, onSignal);
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    };
    process.on(sig, onSignal);
  }
}
