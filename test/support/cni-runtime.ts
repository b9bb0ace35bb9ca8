/**
 * Plays the container runtime for multinet: execs the plugin binary with the CNI environment and
 * the config on stdin, exactly as containerd does (CNI_ARGS with the K8S_POD_* keys). The plugin
 * runs inside the test's node namespace and in a private mount namespace whose
 * /var/lib/cni/networks is a test directory, so delegates with host-local's default store (as in
 * verbatim manifests) never touch the machine's own store.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { nodeNamespaceCommand } from '../../src/host/node-namespace-command.ts';
import { REPO_ROOT } from './control-plane.ts';
import { PLUGIN_DIR, PLUGIN_ENV } from './netns.ts';

export interface CniCall {
  command: 'ADD' | 'DEL' | 'CHECK' | 'STATUS' | 'GC' | 'VERSION';
  containerId?: string;
  netns?: string;
  ifName?: string;
  args?: Record<string, string>;
  config: Record<string, unknown>;
}

export interface CniOutcome {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** Parsed stdout (a result on ADD success, the error object on failure). */
  json: Record<string, unknown> | undefined;
}

/**
 * multinet's thin plugin as installed: the Bun executable (`npm run build:thin-bin`, what
 * `multinet install --type thin` copies), else the single-file bundle under node (`build:thin`).
 */
export const THIN_PLUGIN = existsSync(join(REPO_ROOT, 'dist/multinet-bin'))
  ? [join(REPO_ROOT, 'dist/multinet-bin')]
  : [process.execPath, join(REPO_ROOT, 'dist/multinet-cni.cjs')];

export function runCni(
  call: CniCall,
  opts: {
    nodeNs: string;
    hostLocalDir: string;
    plugin?: string[];
    env?: Record<string, string>;
    /** Gets the plugin process (to kill it as a runtime's timeout would). */
    onSpawn?: (child: ChildProcess) => void;
  },
): Promise<CniOutcome> {
  mkdirSync('/var/lib/cni/networks', { recursive: true });
  mkdirSync(opts.hostLocalDir, { recursive: true });
  const args = Object.entries(call.args ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(';');
  const env: Record<string, string> = {
    ...PLUGIN_ENV,
    CNI_COMMAND: call.command,
    CNI_CONTAINERID: call.containerId ?? '',
    CNI_NETNS: call.netns ?? '',
    CNI_IFNAME: call.ifName ?? 'eth0',
    CNI_ARGS: args,
    CNI_PATH: PLUGIN_DIR,
    ...opts.env,
  };
  const [cmd, ...rest] = nodeNamespaceCommand(opts.nodeNs, opts.hostLocalDir, opts.plugin ?? THIN_PLUGIN);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd!, rest, { env, cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    opts.onSpawn?.(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      let json: Record<string, unknown> | undefined;
      try {
        json = stdout.trim() ? (JSON.parse(stdout) as Record<string, unknown>) : undefined;
      } catch {
        json = undefined;
      }
      resolve({ exitCode: code ?? -1, stdout, stderr, json });
    });
    // A plugin may exit before reading all of stdin (an oversized config): like Go's os/exec,
    // which libcni uses, the runtime ignores EPIPE on stdin and reads the answer.
    child.stdin.on('error', () => undefined);
    child.stdin.end(JSON.stringify(call.config));
  });
}
