/**
 * Pod created → Ready as a user sees it: one `kubectl get pods -w` (the API's watch) over a label
 * selector, each event stamped with this process's clock when it arrives. The API's own
 * timestamps (creationTimestamp, a condition's lastTransitionTime) have 1 s resolution; the
 * watch's arrival times resolve to the millisecond, with the watch's own delivery delay (a few
 * ms, the same for every implementation) on both ends.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface PodTimes {
  /** Date.now() when the watch delivered the pod's ADDED event. */
  createdAt?: number;
  /** Date.now() when the watch first delivered the pod with Ready=True. */
  readyAt?: number;
}

export interface PodWatch {
  pods: Map<string, PodTimes>;
  /** Resolves when `count` pods have been Ready, rejects after `timeoutMs`. */
  waitReady(count: number, timeoutMs: number): Promise<void>;
  stop(): void;
}

const TEMPLATE =
  '{.type} {.object.metadata.name} {.object.status.conditions[?(@.type=="Ready")].status}{"\\n"}';

export async function startPodWatch(
  kubectl: string,
  kubeconfig: string,
  selector: string,
): Promise<PodWatch> {
  const child: ChildProcess = spawn(
    kubectl,
    [
      `--kubeconfig=${kubeconfig}`,
      'get',
      'pods',
      '-n',
      'default',
      '-l',
      selector,
      '--watch',
      '--output-watch-events',
      '-o',
      `jsonpath=${TEMPLATE}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const pods = new Map<string, PodTimes>();
  let waiter: (() => void) | undefined;
  let ready = 0;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const now = Date.now();
    const [type, name, status] = line.trim().split(/\s+/);
    if (!type || !name) return;
    const times = pods.get(name) ?? {};
    pods.set(name, times);
    if (type === 'ADDED' && times.createdAt === undefined) times.createdAt = now;
    if (status === 'True' && times.readyAt === undefined) {
      times.readyAt = now;
      ready += 1;
      waiter?.();
    }
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  // The watch starts with a list; give it time to be established before the pods are created.
  await new Promise((r) => setTimeout(r, 1_500));
  if (child.exitCode !== null) throw new Error(`kubectl get -w exited: ${stderr}`);
  return {
    pods,
    waitReady(count, timeoutMs) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiter = undefined;
          reject(new Error(`${ready}/${count} pods Ready after ${timeoutMs} ms ${stderr}`));
        }, timeoutMs);
        waiter = () => {
          if (ready < count) return;
          clearTimeout(timer);
          waiter = undefined;
          resolve();
        };
        waiter();
      });
    },
    stop() {
      child.kill('SIGTERM');
    },
  };
}
