import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync } from 'node:fs';
import { chmod, copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { mustRun, runCommand } from '../../host/commands.ts';
import { packageRoot } from '../../host/package-root.ts';
import { nodeNamespaceCommand } from '../../host/node-namespace-command.ts';
import { statusFileOf } from '../../local/directory-cluster-view.ts';

/** Everything the demo creates is named with this prefix, so `down` can find it again. */
export const DEMO_PREFIX = 'mn-demo';
export const NODE_NS = `${DEMO_PREFIX}-node`;
export const PODS = ['pod-a', 'pod-b'] as const;
export const podNs = (pod: string) => `${DEMO_PREFIX}-${pod}`;
const PLUGIN_DIRS = ['/usr/lib/cni', '/opt/cni/bin'];

const REPO = packageRoot(import.meta.url);
const EXAMPLES = join(REPO, 'examples');
/** Built by `npm run build` / `npm run build:shim` (scripts/demo.sh does both). */
export const DIST_MULTINET = join(REPO, 'dist/bin/multinet.js');
export const DIST_SHIM = join(REPO, 'dist/multinet-shim.js');

export interface DemoPaths {
  state: string;
  manifests: string;
  cache: string;
  hostLocal: string;
  socketDir: string;
  socket: string;
  defaultConf: string;
  daemonConfig: string;
  daemonLog: string;
}

export function demoPaths(state: string): DemoPaths {
  return {
    state,
    manifests: join(state, 'manifests'),
    cache: join(state, 'cache'),
    hostLocal: join(state, 'host-local'),
    socketDir: join(state, 'run'),
    socket: join(state, 'run', 'multinet.sock'),
    defaultConf: join(state, '10-demo-podnet.conflist'),
    daemonConfig: join(state, 'daemon.json'),
    daemonLog: join(state, 'daemon.log'),
  };
}

function inNode(p: DemoPaths, argv: string[]): string[] {
  return nodeNamespaceCommand(NODE_NS, p.hostLocal, argv);
}

export class DemoScene {
  private daemon: ChildProcess | undefined;

  constructor(readonly paths: DemoPaths) {}

  /** Node namespace with a veth "uplink" (macvlan master), manifests, default network, daemon. */
  async up(step: (what: string) => void): Promise<void> {
    const p = this.paths;
    step('state directory');
    await mkdir(p.manifests, { recursive: true, mode: 0o700 });
    await mkdir(p.hostLocal, { recursive: true, mode: 0o700 });
    await mkdir(p.socketDir, { recursive: true, mode: 0o700 });
    await chmod(p.socketDir, 0o700);
    await mkdir('/var/lib/cni/networks', { recursive: true });
    for (const f of await readdir(EXAMPLES))
      if (f.endsWith('.yaml')) await copyFile(join(EXAMPLES, f), join(p.manifests, f));
    step(`node namespace ${NODE_NS} with uplink veth`);
    await mustRun(['ip', 'netns', 'add', NODE_NS]);
    await mustRun(['ip', '-n', NODE_NS, 'link', 'set', 'lo', 'up']);
    await mustRun([
      'ip',
      '-n',
      NODE_NS,
      'link',
      'add',
      'uplink',
      'type',
      'veth',
      'peer',
      'name',
      'uplink-peer',
    ]);
    await mustRun(['ip', '-n', NODE_NS, 'link', 'set', 'uplink', 'up']);
    await mustRun(['ip', '-n', NODE_NS, 'link', 'set', 'uplink-peer', 'up']);
    step('default network (bridge mn-demo-br0, 10.99.0.0/24)');
    await writeFile(
      p.defaultConf,
      JSON.stringify({
        cniVersion: '1.0.0',
        name: 'demo-podnet',
        plugins: [
          {
            type: 'bridge',
            bridge: 'mn-demo-br0',
            isGateway: true,
            ipam: {
              type: 'host-local',
              ranges: [[{ subnet: '10.99.0.0/24' }]],
              routes: [{ dst: '0.0.0.0/0' }],
            },
          },
        ],
      }),
    );
    await writeFile(
      p.daemonConfig,
      JSON.stringify({
        clusterNetwork: p.defaultConf,
        autoConfig: false,
        localDir: p.manifests,
        cacheDir: p.cache,
        binDirs: PLUGIN_DIRS,
        socketPath: p.socket,
        metricsAddress: '',
        multinetNamespace: 'default',
        logLevel: 'info',
      }),
      { mode: 0o600 },
    );
    step('multinet daemon (local mode, shim-to-daemon path as in production)');
    const log = openSync(p.daemonLog, 'a', 0o600);
    const [cmd, ...args] = inNode(p, [process.execPath, DIST_MULTINET, 'daemon', '--config', p.daemonConfig]);
    // Detached: with --keep the daemon outlives this command (demo down stops it by pid).
    this.daemon = spawn(cmd!, args, {
      detached: true,
      stdio: ['ignore', log, log],
      env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' },
    });
    this.daemon.unref();
    await writeFile(join(p.state, 'daemon.pid'), String(this.daemon.pid));
    await this.waitForSocket();
    for (const pod of PODS) {
      step(`pod namespace ${podNs(pod)}`);
      await mustRun(['ip', 'netns', 'add', podNs(pod)]);
      await mustRun(['ip', '-n', podNs(pod), 'link', 'set', 'lo', 'up']);
    }
  }

  private async waitForSocket(): Promise<void> {
    const deadline = Date.now() + 20_000;
    while (!existsSync(this.paths.socket)) {
      if (this.daemon?.exitCode !== null && this.daemon?.exitCode !== undefined)
        throw new Error(`the daemon exited (${this.daemon.exitCode}); see ${this.paths.daemonLog}`);
      if (Date.now() > deadline)
        throw new Error(`the daemon did not open ${this.paths.socket}; see ${this.paths.daemonLog}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** One CNI call through the shim, as the runtime makes it from the node. */
  async cni(command: 'ADD' | 'DEL', pod: string): Promise<{ code: number; stdout: string; stderr: string }> {
    const env = {
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      CNI_COMMAND: command,
      CNI_CONTAINERID: `demo-${pod}`,
      CNI_NETNS: `/run/netns/${podNs(pod)}`,
      CNI_IFNAME: 'eth0',
      CNI_PATH: PLUGIN_DIRS.join(':'),
      CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=${pod};K8S_POD_INFRA_CONTAINER_ID=demo-${pod}`,
    };
    const conf = {
      cniVersion: '1.0.0',
      name: 'multinet',
      type: 'multinet-shim',
      socketPath: this.paths.socket,
    };
    return runCommand(['nsenter', `--net=/run/netns/${NODE_NS}`, '--', process.execPath, DIST_SHIM], {
      env,
      input: JSON.stringify(conf),
      timeoutMs: 60_000,
    });
  }

  async networkStatus(pod: string): Promise<string | undefined> {
    return readFile(statusFileOf(this.paths.manifests, { namespace: 'default', name: pod }), 'utf8').catch(
      () => undefined,
    );
  }
}

/** Removes everything named mn-demo-*, the daemon and the state dir. Safe to run any time. */
export async function teardownDemo(p: DemoPaths): Promise<string[]> {
  const done: string[] = [];
  const pid = Number(await readFile(join(p.state, 'daemon.pid'), 'utf8').catch(() => ''));
  // Only a process that still is our daemon: a stale pid file may name a reused pid.
  const cmdline = pid > 0 ? await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '') : '';
  if (cmdline.includes(p.daemonConfig)) {
    try {
      process.kill(pid, 'SIGTERM');
      done.push(`stopped daemon ${pid}`);
      for (let i = 0; i < 50; i++) {
        await new Promise((r) => setTimeout(r, 100));
        process.kill(pid, 0);
      }
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  const list = await runCommand(['ip', '-j', 'netns', 'list']);
  const names = list.stdout.trim() ? (JSON.parse(list.stdout) as { name: string }[]).map((n) => n.name) : [];
  for (const n of names.filter((n) => n.startsWith(`${DEMO_PREFIX}-`))) {
    await runCommand(['ip', 'netns', 'del', n]);
    done.push(`removed namespace ${n}`);
  }
  if (existsSync(p.state)) {
    await rm(p.state, { recursive: true, force: true });
    done.push(`removed ${p.state}`);
  }
  return done;
}
