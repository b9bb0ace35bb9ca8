/**
 * One test cluster per machine: a lock (`flock` on /run/multinet-cluster.lock, held by a small
 * holder process so that it outlives `npm run cluster -- up`) and a state file listing everything
 * the cluster started, so that `down`, a signal handler or the watchdog can remove it all.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { rm, writeFile, rename } from 'node:fs/promises';
import { isAlive } from './control-plane-process.ts';
import type { NodeState } from './cluster-node.ts';

export const LOCK_FILE = '/run/multinet-cluster.lock';
export const STATE_FILE = '/run/multinet-cluster.json';

export interface ClusterState {
  dir: string;
  /** The process that started the cluster; the watchdog tears down when it ends (unless persistent). */
  owner: number;
  persistent: boolean;
  lockPid: number;
  watchdogPid?: number;
  controlPlaneDir: string;
  /** Process groups of the control plane's controllers (apiserver and etcd: control-plane.json). */
  controllerPids: number[];
  kubeconfig?: string;
  server?: string;
  nodes: NodeState[];
  /** Empty mount points the cluster created on the host (removed at teardown). */
  mountPoints: string[];
  startedAt: string;
}

export function readClusterState(): ClusterState | undefined {
  try {
    return JSON.parse(readFileSync(STATE_FILE, 'utf8')) as ClusterState;
  } catch {
    return undefined;
  }
}

export async function writeClusterState(state: ClusterState): Promise<void> {
  await writeFile(`${STATE_FILE}.tmp`, JSON.stringify(state, null, 2));
  await rename(`${STATE_FILE}.tmp`, STATE_FILE);
}

export async function removeClusterState(): Promise<void> {
  await rm(STATE_FILE, { force: true });
}

/** Takes the machine's cluster lock; returns the holder's PID, or undefined when another holds it. */
export async function acquireClusterLock(): Promise<number | undefined> {
  const child = spawn(
    'flock',
    ['-n', '-E', '75', LOCK_FILE, 'sh', '-c', 'echo locked; exec sleep infinity'],
    {
      detached: true,
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  const result = await new Promise<boolean>((resolve) => {
    child.stdout!.once('data', () => resolve(true));
    child.once('exit', () => resolve(false));
  });
  child.stdout!.destroy();
  child.unref();
  return result ? child.pid : undefined;
}

/** Releases the lock (kills the holder's group). */
export function releaseClusterLock(pid: number): void {
  if (!isAlive(pid)) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // gone
  }
}
