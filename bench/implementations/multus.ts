/**
 * Multus CNI v4 (tools/multus), thin (`multus` per CNI call) and thick (`multus-daemon` + the Go
 * `multus-shim`), configured like multinet: the same default-network file, the same NADs, the
 * same plugin directory. tools/multus/README.md explains the thick daemon's private mount
 * namespace (it only knows in-cluster credentials).
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { REPO_ROOT } from '../../test/support/control-plane.ts';
import { CLEAN_ENV, execCni, type CniInvocation } from '../exec-cni.ts';
import { NODE_NAME, PLUGIN_DIR } from '../scene.ts';
import { startDaemonProcess, waitUntil } from './daemon-process.ts';
import type { Implementation, RunningImplementation } from './implementation.ts';

export const MULTUS_BIN_DIR = join(REPO_ROOT, 'tools/bin');
const bin = (name: string): string => {
  const path = join(MULTUS_BIN_DIR, name);
  if (!existsSync(path)) throw new Error(`${path} missing: run tools/build.sh`);
  return path;
};

export const multusThin: Implementation = {
  id: 'multus-thin',
  label: 'Multus thin',
  family: 'multus',
  mode: 'thin',
  async start(scene): Promise<RunningImplementation> {
    const plugin = [bin('multus')];
    const cniDir = await scene.tempDir('multus-thin-cache');
    const confDir = await scene.tempDir('multus-thin-confdir');
    const config = JSON.stringify({
      cniVersion: '0.4.0',
      name: 'multus-cni-network',
      type: 'multus',
      kubeconfig: scene.multus.kubeconfig,
      clusterNetwork: scene.defaultNetworkFile,
      cniDir,
      confDir,
      binDir: PLUGIN_DIR,
      logLevel: 'error',
      logToStderr: true,
    });
    return {
      apiUser: scene.multus.user,
      call: (inv: CniInvocation) => execCni(scene.nodeNsPath, plugin, inv, config, PLUGIN_DIR),
      stop: async () => {},
    };
  },
};

// In a private mount namespace: a tmpfs over /var holding only the ServiceAccount files that
// client-go's in-cluster config reads (/var/run is a symlink to /run on the host, not here).
const IN_CLUSTER_WRAPPER = [
  'set -e',
  'mount -t tmpfs -o mode=0755 bench-var /var',
  'sa=/var/run/secrets/kubernetes.io/serviceaccount',
  'mkdir -p "$sa"',
  'cp "$1" "$sa/token"',
  'cp "$2" "$sa/ca.crt"',
  'shift 2',
  'exec "$@"',
].join('\n');

export const multusThick: Implementation = {
  id: 'multus-thick',
  label: 'Multus thick',
  family: 'multus',
  mode: 'thick',
  async start(scene, opts): Promise<RunningImplementation> {
    const daemonBin = bin('multus-daemon');
    const shim = [bin('multus-shim')];
    const runDir = await scene.tempDir('multus-thick');
    const socketDir = join(runDir, 'run');
    const cniConfigDir = await scene.tempDir('multus-thick/net.d');
    const tokenFile = join(runDir, 'token');
    await writeFile(tokenFile, scene.multus.token, { mode: 0o600 });
    const configFile = join(runDir, 'daemon-config.json');
    await writeFile(
      configFile,
      JSON.stringify({
        cniVersion: '0.4.0',
        logLevel: 'error',
        logToStderr: true,
        cniConfigDir,
        multusAutoconfigDir: dirname(scene.defaultNetworkFile),
        multusConfigFile: 'auto',
        socketDir,
        // What the generated 00-multus.conf tells the shim (it defaults to /run/multus/ otherwise).
        daemonSocketDir: socketDir,
        cniDir: await scene.tempDir('multus-thick-cache'),
        binDir: PLUGIN_DIR,
      }),
    );
    const daemon = startDaemonProcess(
      [
        'nsenter',
        `--net=${scene.nodeNsPath}`,
        '--',
        'unshare',
        '--mount',
        'sh',
        '-c',
        IN_CLUSTER_WRAPPER,
        'sh',
        tokenFile,
        scene.cp.caFile,
        daemonBin,
        '-config',
        configFile,
      ],
      {
        ...CLEAN_ENV,
        MULTUS_NODE_NAME: NODE_NAME,
        KUBERNETES_SERVICE_HOST: '127.0.0.1',
        KUBERNETES_SERVICE_PORT: String(scene.apiPort),
      },
      join(opts.logDir, 'multus-daemon.log'),
    );
    const generated = join(cniConfigDir, '00-multus.conf');
    try {
      await waitUntil(
        'multus-daemon',
        daemon,
        async () => existsSync(join(socketDir, 'multus.sock')) && existsSync(generated),
      );
    } catch (err) {
      await daemon.stop();
      throw err;
    }
    // The shim gets what a runtime reads: the daemon's generated 00-multus.conf.
    const shimConfig = await readFile(generated, 'utf8');
    return {
      apiUser: scene.multus.user,
      daemonPid: daemon.pid,
      logFile: daemon.logFile,
      call: (inv: CniInvocation) => execCni(scene.nodeNsPath, shim, inv, shimConfig, PLUGIN_DIR),
      stop: () => daemon.stop(),
    };
  },
};
