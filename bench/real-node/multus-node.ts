/**
 * Multus thick (tools/bin/multus-daemon + multus-shim, v4.3.0) as a node process of the cluster,
 * started the way the harness starts node processes (`nsenter -t HOLDER -m -n`, clean
 * environment). The daemon only knows in-cluster credentials (tools/multus/README.md), read from
 * /var/run/secrets/...: in a private mount namespace of its own, a tmpfs over /var carries them,
 * with the node's /var/lib, /var/log ... bound back and /var/run/netns bound to the node's
 * /run/netns (a slave of it, so sandboxes made later appear). The ServiceAccount has the
 * ClusterRole of upstream's thick DaemonSet, as bench/scene.ts gives the stage's Multus.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster } from '../../test/support/cluster.ts';
import type { ClusterNode } from '../../test/support/cluster-node.ts';
import { REPO_ROOT } from '../../test/support/control-plane.ts';
import { stopGroup } from '../../test/support/control-plane-process.ts';
import { PLUGIN_ENV } from '../../test/support/netns.ts';

const WRAPPER = [
  'set -e',
  'orig="$1"; token="$2"; ca="$3"; shift 3',
  'mount --rbind /var "$orig"',
  'mount -t tmpfs -o mode=0755 multus-var /var',
  'for d in "$orig"/*; do',
  '  n=$(basename "$d")',
  '  if [ -L "$d" ]; then [ "$n" = run ] || ln -s "$(readlink "$d")" "/var/$n"',
  '  elif [ -d "$d" ]; then mkdir -p "/var/$n"; mount --rbind "$d" "/var/$n"; fi',
  'done',
  'sa=/var/run/secrets/kubernetes.io/serviceaccount',
  'mkdir -p "$sa" /var/run/netns',
  'cp "$token" "$sa/token"; cp "$ca" "$sa/ca.crt"',
  'mount --rbind /run/netns /var/run/netns',
  'exec "$@"',
].join('\n');

const RBAC = [
  { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { namespace: 'kube-system', name: 'multus' } },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'multus' },
    rules: [
      { apiGroups: ['k8s.cni.cncf.io'], resources: ['*'], verbs: ['*'] },
      { apiGroups: [''], resources: ['pods', 'pods/status'], verbs: ['get', 'list', 'update', 'watch'] },
      { apiGroups: ['', 'events.k8s.io'], resources: ['events'], verbs: ['create', 'patch', 'update'] },
    ],
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'multus' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'multus' },
    subjects: [{ kind: 'ServiceAccount', namespace: 'kube-system', name: 'multus' }],
  },
];

export const MULTUS_CONF = '00-multus.conf';
let running: { pid: number; node: ClusterNode } | undefined;

/** Starts the daemon on `node`; resolves with its pid once its socket and 00-multus.conf exist. */
export async function startMultusThick(cluster: Cluster, node: ClusterNode): Promise<number> {
  const dir = join(node.dir, 'multus');
  const socketDir = join(dir, 'run');
  await mkdir(join(dir, 'var-orig'), { recursive: true });
  await mkdir(socketDir, { recursive: true });
  await cluster.kubectl(['apply', '-f', '-'], { input: RBAC.map((o) => JSON.stringify(o)).join('\n') });
  const token = (
    await cluster.kubectl(['create', 'token', 'multus', '-n', 'kube-system', '--duration=24h'])
  ).trim();
  await writeFile(join(dir, 'token'), token, { mode: 0o600 });
  await copyFile(
    join(REPO_ROOT, 'tools/bin/multus-shim'),
    join(node.hostPath('/opt/cni/bin'), 'multus-shim'),
  );
  const config = join(dir, 'daemon-config.json');
  await writeFile(
    config,
    JSON.stringify({
      cniVersion: '0.4.0',
      logLevel: 'error',
      logToStderr: true,
      cniConfigDir: '/etc/cni/net.d',
      multusAutoconfigDir: '/etc/cni/net.d',
      multusConfigFile: 'auto',
      socketDir,
      daemonSocketDir: socketDir,
      cniDir: '/var/lib/cni/multus',
      binDir: '/opt/cni/bin',
    }),
  );
  const log = openSync(join(node.dir, 'multus-daemon.log'), 'a');
  const env = [
    `PATH=${PLUGIN_ENV.PATH}`,
    `KUBERNETES_SERVICE_HOST=${cluster.apiHost}`,
    `KUBERNETES_SERVICE_PORT=${cluster.apiPort}`,
    `MULTUS_NODE_NAME=${node.name}`,
  ];
  const args = [
    ...node.enter(),
    'env',
    '-i',
    ...env,
    'unshare',
    '--mount',
    '--propagation',
    'slave',
    'sh',
    '-c',
    WRAPPER,
    'sh',
    join(dir, 'var-orig'),
    join(dir, 'token'),
    cluster.controlPlane.caFile,
    join(REPO_ROOT, 'tools/bin/multus-daemon'),
    '-config',
    config,
  ];
  const child = spawn(args[0]!, args.slice(1), { stdio: ['ignore', log, log], detached: true });
  closeSync(log);
  child.unref();
  const pid = child.pid!;
  running = { pid, node };
  const generated = join(node.hostPath('/etc/cni/net.d'), MULTUS_CONF);
  const deadline = Date.now() + 60_000;
  while (!(existsSync(join(socketDir, 'multus.sock')) && existsSync(generated))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      const text = await readFile(join(node.dir, 'multus-daemon.log'), 'utf8').catch(() => '');
      await stopMultusThick();
      throw new Error(`multus-daemon did not start on ${node.name}: ${text.slice(-2000)}`);
    }
    await sleep(100);
  }
  const comm = (await readFile(`/proc/${pid}/comm`, 'utf8')).trim();
  if (comm !== 'multus-daemon') throw new Error(`pid ${pid} is ${comm}, not multus-daemon`);
  return pid;
}

/** Stops the daemon (if this process started one) and removes its generated config. */
export async function stopMultusThick(): Promise<void> {
  if (!running) return;
  const { pid, node } = running;
  running = undefined;
  await stopGroup(pid, 5_000);
  await rm(join(node.hostPath('/etc/cni/net.d'), MULTUS_CONF), { force: true });
}
