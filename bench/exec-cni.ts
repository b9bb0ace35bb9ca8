/**
 * Execs one CNI plugin the way a runtime does, inside the bench's node namespace, and times it
 * from spawn to exit. The environment is built from scratch (PATH and the CNI_* variables): no
 * NODE_EXTRA_CA_CERTS or anything else of the bench's own environment leaks into a plugin, so a
 * Node-based plugin starts as fast as it would under containerd.
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';

/** What every plugin and daemon gets as its whole environment (plus its own CNI_* / settings). */
export const CLEAN_ENV: Readonly<Record<string, string>> = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
};

export interface PodRef {
  namespace: string;
  name: string;
  uid: string;
}

export interface CniInvocation {
  command: 'ADD' | 'DEL' | 'VERSION';
  containerId: string;
  /** CNI_NETNS (a path under /run/netns). */
  netns: string;
  pod: PodRef;
  /** The NAD names the pod asks for, in order: only the baseline reads it (the others ask the API). */
  networks: string[];
}

export interface CallOutcome {
  ok: boolean;
  ms: number;
  /** Stdout on failure (the CNI error object), trimmed. */
  error?: string;
}

export function cniEnv(inv: CniInvocation, cniPath: string): Record<string, string> {
  const args = [
    ['IgnoreUnknown', '1'],
    ['K8S_POD_NAMESPACE', inv.pod.namespace],
    ['K8S_POD_NAME', inv.pod.name],
    ['K8S_POD_INFRA_CONTAINER_ID', inv.containerId],
    ['K8S_POD_UID', inv.pod.uid],
  ];
  return {
    ...CLEAN_ENV,
    CNI_COMMAND: inv.command,
    CNI_CONTAINERID: inv.containerId,
    CNI_NETNS: inv.netns,
    CNI_IFNAME: 'eth0',
    CNI_ARGS: args.map(([k, v]) => `${k}=${v}`).join(';'),
    CNI_PATH: cniPath,
  };
}

/** Runs `command` with `env` and `stdin`; resolves with its exit code, output and wall time. */
export function execTimed(
  command: string[],
  env: Record<string, string>,
  stdin: string,
  timeoutMs = 120_000,
): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const [cmd, ...args] = command;
    const child = spawn(cmd!, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr, ms: performance.now() - t0 });
    });
    child.stdin.on('error', () => {}); // a plugin may exit before reading stdin (VERSION)
    child.stdin.end(stdin);
  });
}

/** One CNI call of a plugin command run inside the node namespace (`nsenter --net`). */
export async function execCni(
  nodeNsPath: string,
  plugin: string[],
  inv: CniInvocation,
  config: string,
  cniPath: string,
): Promise<CallOutcome> {
  const r = await execTimed(
    ['nsenter', `--net=${nodeNsPath}`, '--', ...plugin],
    cniEnv(inv, cniPath),
    config,
  );
  if (r.code === 0) return { ok: true, ms: r.ms };
  return { ok: false, ms: r.ms, error: (r.stdout.trim() || r.stderr.trim()).slice(0, 600) };
}

/**
 * GET `url` from inside the network namespace at `netns` (a daemon's metrics on its node's
 * loopback): a node process entered there with nsenter, clean environment.
 */
export async function fetchInNetns(netns: string, url: string): Promise<string> {
  const script = `fetch(${JSON.stringify(url)}).then((r) => r.text()).then((t) => process.stdout.write(t))`;
  const r = await execTimed(
    ['nsenter', `--net=${netns}`, '--', process.execPath, '-e', script],
    { ...CLEAN_ENV },
    '',
    15_000,
  );
  if (r.code !== 0) throw new Error(`GET ${url} in ${netns} failed: ${r.stderr.slice(0, 300)}`);
  return r.stdout;
}
