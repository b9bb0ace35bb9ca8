/**
 * Starts the real multinet daemon as a process inside a test node namespace (as a hostNetwork
 * DaemonSet pod would run), and drives it through the real bundled shim, exactly as a runtime
 * execs it. Everything lives under the topology's temp dir; the daemon is killed in `t.after`
 * also when the test failed.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT } from '../support/control-plane.ts';
import { runCni, type CniCall, type CniOutcome } from '../support/cni-runtime.ts';
import { PLUGIN_DIR, PLUGIN_ENV, type NetnsTopology } from '../support/netns.ts';

/**
 * Runs the package.json build script `name` with its output redirected into a directory of this
 * test process: the tests run exactly the artefact we ship, and parallel test runs do not race
 * on dist/. Built once per process.
 */
const built = new Map<string, string>();
function buildArtefact(name: string, shippedPath: string): string {
  const hit = built.get(name);
  if (hit) return hit;
  const script = (
    JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
  ).scripts[name];
  if (!script?.includes(shippedPath))
    throw new Error(`package.json script ${name} does not write ${shippedPath}`);
  const dir = mkdtempSync(join(tmpdir(), 'mn-build-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, basename(shippedPath));
  execFileSync('sh', ['-c', script.replaceAll(shippedPath, out)], {
    cwd: REPO_ROOT,
    stdio: 'ignore',
    env: { ...process.env, PATH: `${join(REPO_ROOT, 'node_modules/.bin')}:${process.env['PATH']}` },
  });
  built.set(name, out);
  return out;
}

/** `npm run build:shim`, into a private path. */
export function buildShim(): string {
  return buildArtefact('build:shim', 'dist/multinet-shim.js');
}

/** `npm run build:daemon`: the single-file daemon an image would run (memory figures). */
export function buildDaemonBundle(): string[] {
  return [process.execPath, '--max-semi-space-size=2', buildArtefact('build:daemon', 'dist/multinet.mjs')];
}

export interface LogLine {
  level: string;
  msg: string;
  [k: string]: unknown;
}

export class DaemonProcess {
  readonly logs: LogLine[] = [];
  stderr = '';
  exited: Promise<number | null>;
  exitCode: number | null | undefined;

  constructor(readonly proc: ChildProcess) {
    let buf = '';
    proc.stdout!.on('data', (c: Buffer) => {
      buf += c.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          this.logs.push(JSON.parse(line) as LogLine);
        } catch {
          this.stderr += `${line}\n`;
        }
      }
    });
    proc.stderr!.on('data', (c: Buffer) => (this.stderr += c.toString()));
    this.exited = new Promise((resolve) => proc.on('exit', (code) => resolve((this.exitCode = code))));
  }

  async waitForLog(pred: (l: LogLine) => boolean, ms = 20_000): Promise<LogLine> {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      const hit = this.logs.find(pred);
      if (hit) return hit;
      if (this.exitCode !== undefined)
        throw new Error(`daemon exited (${this.exitCode}) before the expected log:\n${this.describe()}`);
      await sleep(25);
    }
    throw new Error(`timed out waiting for a daemon log line:\n${this.describe()}`);
  }

  /** The metrics port from the "metrics listening" line. */
  async metricsPort(): Promise<number> {
    const l = await this.waitForLog((x) => x.msg === 'metrics listening');
    return Number(String(l['address']).split(':').pop());
  }

  describe(): string {
    return `${this.logs.map((l) => JSON.stringify(l)).join('\n')}\n${this.stderr}`;
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.exitCode === undefined) this.proc.kill(signal);
    return this.exited;
  }
}

export interface DaemonSetup {
  dir: string;
  confDir: string;
  socketPath: string;
  configFile: string;
  binDir: string;
}

/** Directories for one daemon under the topology's temp dir; the socket dir is created by the daemon. */
export async function daemonDirs(topo: NetnsTopology): Promise<DaemonSetup> {
  const dir = join(topo.tmpDir, 'daemon');
  const confDir = join(dir, 'net.d');
  const binDir = join(dir, 'bin');
  await mkdir(confDir, { recursive: true });
  await mkdir(binDir, { recursive: true });
  return {
    dir,
    confDir,
    binDir,
    socketPath: join(dir, 'run', 'multinet.sock'),
    configFile: join(dir, 'daemon.json'),
  };
}

export async function startDaemon(
  t: TestContext,
  topo: NetnsTopology,
  setup: DaemonSetup,
  config: Record<string, unknown>,
  opts: { waitReady?: boolean; /** Default: this checkout's source through tsx. */ command?: string[] } = {},
): Promise<DaemonProcess> {
  await writeFile(
    setup.configFile,
    JSON.stringify({
      socketPath: setup.socketPath,
      cniConfDir: setup.confDir,
      cacheDir: topo.cacheDir,
      binDirs: [setup.binDir, PLUGIN_DIR],
      metricsAddress: '127.0.0.1:0',
      rescanIntervalSeconds: 1,
      logLevel: 'debug',
      ...config,
    }),
  );
  const proc = spawn(
    'nsenter',
    [
      `--net=${topo.nodePath}`,
      '--',
      ...(opts.command ?? [process.execPath, '--import', 'tsx', join(REPO_ROOT, 'src/bin/multinet.ts')]),
      'daemon',
      '--config',
      setup.configFile,
    ],
    { cwd: REPO_ROOT, env: { ...PLUGIN_ENV, HOME: '/root' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const daemon = new DaemonProcess(proc);
  t.after(async () => {
    if (daemon.exitCode === undefined) {
      proc.kill('SIGKILL');
      await daemon.exited;
    }
  });
  if (opts.waitReady !== false) await daemon.waitForLog((l) => l.msg === 'metrics listening');
  return daemon;
}

/** A plugin that sleeps, then runs the real bridge plugin: makes an ADD last long enough to race. */
export async function installSlowBridge(setup: DaemonSetup, seconds: number): Promise<void> {
  const path = join(setup.binDir, 'slowbridge');
  await writeFile(
    path,
    // It touches slowbridge.started as an ADD begins, so a test can wait for that moment.
    `#!/bin/sh\n[ "$CNI_COMMAND" = ADD ] && { : > ${path}.started; sleep ${seconds}; }\nexec ${PLUGIN_DIR}/bridge\n`,
  );
  await chmod(path, 0o755);
}

/** Resolves once a slowbridge ADD has started (see installSlowBridge); fails after `ms`. */
export async function slowBridgeStarted(setup: DaemonSetup, ms = 20_000): Promise<void> {
  const marker = join(setup.binDir, 'slowbridge.started');
  for (const end = Date.now() + ms; !existsSync(marker); await sleep(25))
    if (Date.now() > end) throw new Error('no slowbridge ADD started');
}

export function bridgeConf(
  topo: NetnsTopology,
  opts: { name?: string; subnet: string; bridge: string; type?: string; cniVersion?: string },
): Record<string, unknown> {
  return {
    cniVersion: opts.cniVersion ?? '1.0.0',
    name: opts.name ?? 'podnet',
    plugins: [
      {
        type: opts.type ?? 'bridge',
        bridge: opts.bridge,
        isGateway: true,
        ipam: { type: 'host-local', ranges: [[{ subnet: opts.subnet }]], dataDir: topo.dataDir },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  };
}

/** One CNI call through the bundled shim, run by the test "runtime" inside the node namespace. */
export function shimCall(
  topo: NetnsTopology,
  config: Record<string, unknown>,
  call: Omit<CniCall, 'config'>,
): Promise<CniOutcome> {
  return runCni(
    { ...call, config },
    { nodeNs: topo.node, hostLocalDir: join(topo.tmpDir, 'host-local'), plugin: [buildShim()] },
  );
}

export function podArgs(name: string): Record<string, string> {
  return { IgnoreUnknown: '1', K8S_POD_NAMESPACE: 'default', K8S_POD_NAME: name, K8S_POD_UID: `uid-${name}` };
}

export async function waitFor(
  what: string,
  cond: () => boolean | Promise<boolean>,
  ms = 10_000,
): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

export function fileExists(path: string): boolean {
  return existsSync(path);
}

/** GET on the daemon's metrics listener (inside the node namespace). */
export function scrape(topo: NetnsTopology, port: number, path = '/metrics'): string {
  const script = `fetch(${JSON.stringify(`http://127.0.0.1:${port}${path}`)}).then((r) => r.text()).then((t) => process.stdout.write(t))`;
  return execFileSync('nsenter', [`--net=${topo.nodePath}`, '--', process.execPath, '-e', script], {
    encoding: 'utf8',
    env: PLUGIN_ENV,
  });
}

/** The daemon's `multinet_cache_objects` gauges, by resource. */
export function cachedObjects(topo: NetnsTopology, port: number): Record<string, number> {
  const held: Record<string, number> = {};
  for (const m of scrape(topo, port).matchAll(/^multinet_cache_objects\{resource="([^"]+)"\} (\d+)$/gm))
    held[m[1]!] = Number(m[2]);
  return held;
}

/**
 * Waits until the daemon's caches hold exactly `want` objects of each resource named: the point
 * after which a call finds what the test created in the caches, not by a live read.
 */
export async function waitForCached(
  topo: NetnsTopology,
  port: number,
  want: Record<string, number>,
  ms = 20_000,
): Promise<void> {
  await waitFor(
    `caches holding ${JSON.stringify(want)}`,
    () => {
      const held = cachedObjects(topo, port);
      return Object.entries(want).every(([resource, n]) => held[resource] === n);
    },
    ms,
  );
}
