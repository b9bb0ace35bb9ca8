// A real Kubernetes control plane for tests: etcd + kube-apiserver (built by tools/build.sh) on
// loopback ports, RBAC on, self-signed certificates, an admin identity (client certificate in
// system:masters) and multinet's ServiceAccount identity (a TokenRequest token), with the CRDs
// of deploy/crds/ and the RBAC of deploy/rbac/ applied. No controller-manager runs: admission
// plugins that need one are off, and pods stay as created.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify as toYaml } from 'yaml';
import { readAuditLog, waitForAuditLog, writeAuditPolicy, type AuditEvent } from './control-plane-audit.ts';
import { applyAll, ensureCrds, loadManifests } from './control-plane-manifests.ts';
import { createPki, issue, LEAF_EXTENSIONS, type Pki } from './control-plane-pki.ts';
import {
  freePort,
  isAlive,
  registerCleanup,
  spawnLogged,
  startWatchdog,
  stopGroup,
  type Spawned,
} from './control-plane-process.ts';
import { KubeClient, type KubeObject } from './kube-client.ts';

export type { AuditEvent } from './control-plane-audit.ts';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const MULTINET_SERVICE_ACCOUNT = { namespace: 'kube-system', name: 'multinet' } as const;

export interface ControlPlaneOptions {
  /** State directory (created; must not hold another control plane). Default: a new temp dir. */
  dir?: string;
  /** Where kube-apiserver and etcd are. Default: tools/bin of this repository. */
  binDir?: string;
  /** Keep running after this process exits (for `npm run control-plane up`). Default false. */
  persistent?: boolean;
  /** Deadline for the whole start-up. Default 60 s. */
  timeoutMs?: number;
  /**
   * For a cluster with real nodes (test/support/cluster.ts): the apiserver listens on `address`
   * (reachable from the node namespaces), talks to kubelets with a client certificate, and runs
   * the admission a real cluster runs (ServiceAccount, NodeRestriction). Default: loopback only.
   */
  nodes?: { address: string };
}

export interface ControlPlane {
  /** https://127.0.0.1:PORT */
  server: string;
  caFile: string;
  adminKubeconfig: string;
  multinetKubeconfig: string;
  multinetToken: string;
  dir: string;
  auditLogFile: string;
  pids: { etcd: number; apiserver: number };
  /** Admin client (system:masters). */
  client: KubeClient;
  /** The certificates (a cluster issues its nodes' certificates with this CA). */
  pki: Pki;
  /** A client that authenticates as multinet's ServiceAccount (its token). */
  multinetClient: KubeClient;
  readAudit(): Promise<AuditEvent[]>;
  waitForAudit(predicate: (events: AuditEvent[]) => boolean, timeoutMs?: number): Promise<AuditEvent[]>;
  /** Kills etcd and kube-apiserver and removes `dir`. Safe to call twice. */
  stop(): Promise<void>;
}

/** What `npm run control-plane -- down|status` needs to find a persistent control plane. */
export interface ControlPlaneState {
  server: string;
  adminKubeconfig: string;
  multinetKubeconfig: string;
  pids: { etcd: number; apiserver: number };
}

export const STATE_FILE = 'control-plane.json';

function kubeconfig(server: string, caFile: string, user: Record<string, string>): string {
  return toYaml({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'multinet-test', cluster: { server, 'certificate-authority': caFile } }],
    users: [{ name: 'user', user }],
    contexts: [{ name: 'multinet-test', context: { cluster: 'multinet-test', user: 'user' } }],
    'current-context': 'multinet-test',
  });
}

async function logTail(file: string, lines = 40): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').slice(-lines).join('\n');
}

async function waitReady(client: KubeClient, procs: Spawned[], deadline: number): Promise<void> {
  let last = '';
  for (;;) {
    for (const p of procs) {
      if (!isAlive(p.pid)) throw new Error(`${p.name} exited during start-up`);
    }
    try {
      await client.request('GET', '/readyz');
      return;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`kube-apiserver not ready in time (last: ${last})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function retryUntil<T>(deadline: number, gaveUp: () => boolean, fn: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline || gaveUp()) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function mintToken(client: KubeClient): Promise<string> {
  const { namespace, name } = MULTINET_SERVICE_ACCOUNT;
  const res = await client.create<KubeObject & { status: { token: string } }>(
    { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 86_400 } },
    { ref: { apiVersion: 'v1', kind: 'ServiceAccount', namespace, name }, subresource: 'token' },
  );
  return res.status.token;
}

export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  const binDir = opts.binDir ?? join(REPO_ROOT, 'tools/bin');
  for (const bin of ['etcd', 'kube-apiserver']) {
    if (!existsSync(join(binDir, bin))) throw new Error(`${join(binDir, bin)} missing: run tools/build.sh`);
  }
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'multinet-cp-')));
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const procs: Spawned[] = [];
  let unregister = (): void => {};
  let watchdog = 0;
  let stopped = false;
  const aborted = new AbortController();
  const clients: KubeClient[] = [];

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    aborted.abort();
    for (const c of clients) c.close();
    // apiserver first: it would log etcd errors while etcd goes away.
    for (const p of [...procs].reverse()) await stopGroup(p.pid);
    if (watchdog) await stopGroup(watchdog, 0);
    unregister();
    await rm(dir, { recursive: true, force: true });
  };

  try {
    const address = opts.nodes?.address ?? '127.0.0.1';
    const pki = await createPki(join(dir, 'pki'), opts.nodes ? [`IP:${address}`] : []);
    const clusterArgs = opts.nodes ? await nodeAccessArgs(pki, join(dir, 'pki')) : [];
    const auditPolicy = join(dir, 'audit-policy.yaml');
    const auditLogFile = join(dir, 'audit.log');
    await writeAuditPolicy(auditPolicy);
    const [etcdPort, peerPort, apiPort] = await Promise.all([freePort(), freePort(), freePort()]);
    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    const peerUrl = `http://127.0.0.1:${peerPort}`;
    // etcd and apiserver start together: the apiserver retries etcd until it answers.
    const etcd = spawnLogged(
      'etcd',
      join(binDir, 'etcd'),
      [
        '--name=default',
        `--data-dir=${join(dir, 'etcd-data')}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=default=${peerUrl}`,
        '--unsafe-no-fsync=true', // throw-away data: durability buys nothing, fsync costs start-up time
        '--log-level=warn',
      ],
      join(dir, 'etcd.log'),
    );
    procs.push(etcd);
    const apiserver = spawnLogged(
      'kube-apiserver',
      join(binDir, 'kube-apiserver'),
      [
        `--bind-address=${address}`,
        `--advertise-address=${address}`,
        `--secure-port=${apiPort}`,
        `--etcd-servers=${etcdUrl}`,
        `--tls-cert-file=${pki.servingCert}`,
        `--tls-private-key-file=${pki.servingKey}`,
        `--client-ca-file=${pki.caCert}`,
        '--authorization-mode=Node,RBAC',
        // CNI DaemonSets are privileged (they create interfaces on the node).
        '--allow-privileged=true',
        `--service-account-key-file=${pki.serviceAccountPub}`,
        `--service-account-signing-key-file=${pki.serviceAccountKey}`,
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        '--service-cluster-ip-range=10.96.0.0/16',
        // Without nodes no controller-manager runs: no default ServiceAccount gets created.
        ...(opts.nodes ? clusterArgs : ['--disable-admission-plugins=ServiceAccount']),
        // A loopback address may not go into the kubernetes Endpoints; nothing routes to it anyway.
        '--endpoint-reconciler-type=none',
        '--enable-priority-and-fairness=false',
        '--profiling=false',
        `--audit-policy-file=${auditPolicy}`,
        `--audit-log-path=${auditLogFile}`,
        '--audit-log-mode=blocking',
      ],
      join(dir, 'apiserver.log'),
    );
    procs.push(apiserver);
    if (!opts.persistent) {
      unregister = registerCleanup([etcd.pid, apiserver.pid], dir);
      watchdog = startWatchdog(process.pid, [etcd.pid, apiserver.pid], dir);
    }

    const server = `https://${address}:${apiPort}`;
    const adminKubeconfig = join(dir, 'admin.kubeconfig');
    await writeFile(
      adminKubeconfig,
      kubeconfig(server, pki.caCert, { 'client-certificate': pki.adminCert, 'client-key': pki.adminKey }),
      { mode: 0o600 },
    );
    const client = await KubeClient.fromKubeconfig(adminKubeconfig);
    clients.push(client);
    // CRDs go in as soon as the apiserver takes them, while its other start-up hooks still run:
    // that overlaps the CRDs' establishing and 2 s slow-down (see ensureCrds) with /readyz.
    const crds = retryUntil(
      deadline,
      () => stopped,
      () => ensureCrds(client, join(REPO_ROOT, 'deploy/crds'), aborted.signal),
    );
    crds.catch(() => {}); // awaited below; waitReady may throw first
    await waitReady(client, procs, deadline);
    const { fastCreatesAt } = await crds;
    const rbac = await loadManifests(join(REPO_ROOT, 'deploy/rbac'));
    await applyAll(client, rbac);
    const multinetToken = await mintToken(client);
    const multinetKubeconfig = join(dir, 'multinet.kubeconfig');
    await writeFile(multinetKubeconfig, kubeconfig(server, pki.caCert, { token: multinetToken }), {
      mode: 0o600,
    });
    const multinetClient = client.withToken(multinetToken);
    clients.push(multinetClient);

    // Tests time their requests: let the CRDs' 2 s "just created" slow-down pass now, once.
    const wait = Math.min(fastCreatesAt - Date.now(), 3_000);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const pids = { etcd: etcd.pid, apiserver: apiserver.pid };
    const state: ControlPlaneState = { server, adminKubeconfig, multinetKubeconfig, pids };
    await writeFile(join(dir, STATE_FILE), JSON.stringify(state, null, 2));
    return {
      server,
      caFile: pki.caCert,
      adminKubeconfig,
      multinetKubeconfig,
      multinetToken,
      dir,
      auditLogFile,
      pids,
      client,
      pki,
      multinetClient,
      readAudit: () => readAuditLog(auditLogFile),
      waitForAudit: (predicate, timeoutMs) => waitForAuditLog(auditLogFile, predicate, timeoutMs),
      stop,
    };
  } catch (err) {
    const logs = await Promise.all(
      procs.map(async (p) => `--- ${p.name} log (tail) ---\n${await logTail(p.logFile)}`),
    );
    await stop();
    throw new Error(`control plane failed to start: ${(err as Error).message}\n${logs.join('\n')}`, {
      cause: err,
    });
  }
}

/** What the apiserver of a cluster needs to reach kubelets, and the admission a real cluster runs. */
async function nodeAccessArgs(pki: Pki, dir: string): Promise<string[]> {
  await issue(
    dir,
    'kubelet-client',
    '/O=system:masters/CN=kube-apiserver-kubelet-client',
    `${LEAF_EXTENSIONS}extendedKeyUsage=clientAuth\n`,
    pki,
  );
  return [
    `--kubelet-client-certificate=${join(dir, 'kubelet-client.crt')}`,
    `--kubelet-client-key=${join(dir, 'kubelet-client.key')}`,
    `--kubelet-certificate-authority=${pki.caCert}`,
    '--kubelet-preferred-address-types=InternalIP',
    '--enable-admission-plugins=NodeRestriction',
  ];
}

/** Stops a persistent control plane from its state directory (no-op when none runs there). */
export async function stopControlPlaneAt(dir: string): Promise<boolean> {
  const state = await readControlPlaneState(dir);
  if (state) {
    // Only signal what is still ours: after a reboot the pids may belong to anything.
    if (commandOf(state.pids.apiserver).includes('kube-apiserver')) await stopGroup(state.pids.apiserver);
    if (commandOf(state.pids.etcd).includes('etcd')) await stopGroup(state.pids.etcd);
  }
  await rm(dir, { recursive: true, force: true });
  return state !== undefined;
}

/** The command line of a process ('' when there is none). */
export function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

export async function readControlPlaneState(dir: string): Promise<ControlPlaneState | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, STATE_FILE), 'utf8')) as ControlPlaneState;
  } catch {
    return undefined;
  }
}
