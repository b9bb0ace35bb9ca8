/**
 * multinet as it ships (deploy/, docs/daemon.md), built from this checkout before the run: thin =
 * the Bun executable `dist/multinet-bin` per CNI call (npm run build:thin-bin; `node
 * dist/multinet-cni.cjs` when that is not built); thick = the bundled daemon
 * `node --max-semi-space-size=2 dist/multinet.mjs daemon` (npm run build:daemon) + the shim the
 * image and `multinet install` ship, the Bun executable `dist/multinet-shim-bin` (npm run
 * build:shim-bin; the bundle `node dist/multinet-shim.js` when that is not built).
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO_ROOT } from '../../test/support/control-plane.ts';
import { CLEAN_ENV, execCni, fetchInNetns, type CniInvocation } from '../exec-cni.ts';
import { NODE_NAME, PLUGIN_DIR, type BenchScene } from '../scene.ts';
import { startDaemonProcess, waitUntil } from './daemon-process.ts';
import type {
  Implementation,
  ImplementationId,
  RunningImplementation,
  StartOptions,
} from './implementation.ts';

export const MULTINET_THIN = join(REPO_ROOT, 'dist/multinet-cni.cjs');
export const MULTINET_THIN_BIN = join(REPO_ROOT, 'dist/multinet-bin');
export const MULTINET_DAEMON = join(REPO_ROOT, 'dist/multinet.mjs');
/** The node flags deploy/thick/daemonset.yaml starts the daemon with. */
export const DAEMON_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2'];
export const MULTINET_SHIM = join(REPO_ROOT, 'dist/multinet-shim.js');

/** Engine options both modes share, so thin and thick do the same work. */
function engineOptions(scene: BenchScene, cacheDir: string, opts: StartOptions): Record<string, unknown> {
  return {
    cniVersion: '0.4.0',
    name: 'multinet',
    kubeconfig: scene.multinet.kubeconfig,
    clusterNetwork: scene.defaultNetworkFile,
    cacheDir,
    binDirs: [PLUGIN_DIR],
    logLevel: 'warn',
    ...(opts.parallelAttach ? { parallelAttach: true } : {}),
    ...(opts.events ? { events: opts.events } : {}),
  };
}

export const multinetThin: Implementation = {
  id: 'multinet-thin',
  label: 'multinet thin',
  family: 'multinet',
  mode: 'thin',
  async start(scene, opts): Promise<RunningImplementation> {
    if (!existsSync(MULTINET_THIN) && !existsSync(MULTINET_THIN_BIN))
      throw new Error(`${MULTINET_THIN} missing: npm run build:thin-bin`);
    const cacheDir = await scene.tempDir(`multinet-thin-cache${opts.parallelAttach ? '-par' : ''}`);
    const config = JSON.stringify({ ...engineOptions(scene, cacheDir, opts), type: 'multinet' });
    // The plugin as shipped (the Bun executable of build:thin-bin) when it is built, else the bundle.
    const plugin = existsSync(MULTINET_THIN_BIN) ? [MULTINET_THIN_BIN] : [process.execPath, MULTINET_THIN];
    return {
      apiUser: scene.multinet.user,
      call: (inv: CniInvocation) => execCni(scene.nodeNsPath, plugin, inv, config, PLUGIN_DIR),
      stop: async () => {},
    };
  },
};

/**
 * multinet thick from the bundles in `dist` (this checkout's, or another commit's for
 * bench/ab-thick.ts), its metrics on `metricsBase` (+1 parallelAttach, +2 events).
 */
export function multinetThickFrom(
  dist: string,
  id: ImplementationId,
  label: string,
  /** Names this variant's directories and logs apart (bench/ab-thick.ts runs two at once). */
  tag = '',
  metricsBase = 19391,
  /** The daemon's node flags (bench/ab-thick.ts can set them per side); deploy/'s by default. */
  nodeFlags: readonly string[] = DAEMON_NODE_FLAGS,
  /** node runs the bundle (as deploy/ ships it); bun runs the daemon in the thin plugin's Bun executable. */
  runtime: 'node' | 'bun' = 'node',
): Implementation {
  const daemonBundle = join(dist, 'multinet.mjs');
  const shimBundle = join(dist, 'multinet-shim.js');
  const shimBin = join(dist, 'multinet-shim-bin');
  const daemonArgv =
    runtime === 'bun' ? [join(dist, 'multinet-bin')] : [process.execPath, ...nodeFlags, daemonBundle];
  return {
    id,
    label,
    family: 'multinet',
    mode: 'thick',
    async start(scene, opts): Promise<RunningImplementation> {
      for (const f of [shimBundle, daemonBundle])
        if (!existsSync(f)) throw new Error(`${f} missing: npm run build:shim && npm run build:daemon`);
      const suffix = `${tag ? `-${tag}` : ''}${opts.parallelAttach ? '-par' : ''}`;
      const cacheDir = await scene.tempDir(`multinet-thick-cache${suffix}`);
      const runDir = await scene.tempDir(`multinet-run${suffix}`);
      const socketPath = join(runDir, 'sock', 'multinet.sock');
      const configFile = join(runDir, 'daemon.json');
      // On loopback in the node namespace, as deploy/ has it (127.0.0.1:9091); only the bench's
      // daemons live there, one multinet daemon at a time per variant.
      const metricsPort = metricsBase + (opts.parallelAttach ? 1 : 0) + (opts.events ? 2 : 0);
      await writeFile(
        configFile,
        JSON.stringify({
          ...engineOptions(scene, cacheDir, opts),
          socketPath,
          nodeName: NODE_NAME,
          metricsAddress: `127.0.0.1:${metricsPort}`,
          autoConfig: false,
        }),
      );
      const daemon = startDaemonProcess(
        ['nsenter', `--net=${scene.nodeNsPath}`, '--', ...daemonArgv, 'daemon', '--config', configFile],
        { ...CLEAN_ENV },
        join(opts.logDir, `multinet-daemon${suffix}.log`),
      );
      try {
        await waitUntil('multinet daemon', daemon, async () => existsSync(socketPath));
      } catch (err) {
        await daemon.stop();
        throw err;
      }
      // What the runtime would read from 00-multinet.conflist: the shim needs only the socket.
      const shimConfig = JSON.stringify({
        cniVersion: '0.4.0',
        name: 'multinet',
        type: 'multinet-shim',
        socketPath,
      });
      // The shim as shipped (the Bun executable of build:shim-bin) when it is built, else the bundle.
      const shim = existsSync(shimBin) ? [shimBin] : [process.execPath, shimBundle];
      return {
        apiUser: scene.multinet.user,
        daemonPid: daemon.pid,
        logFile: daemon.logFile,
        call: (inv: CniInvocation) => execCni(scene.nodeNsPath, shim, inv, shimConfig, PLUGIN_DIR),
        metrics: () => fetchInNetns(scene.nodeNsPath, `http://127.0.0.1:${metricsPort}/metrics`),
        stop: () => daemon.stop(),
      };
    },
  };
}

export const multinetThick: Implementation = multinetThickFrom(
  join(REPO_ROOT, 'dist'),
  'multinet-thick',
  'multinet thick',
);
