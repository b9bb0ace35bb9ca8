/**
 * One burst on a real node: N pods pinned to the node created with one `kubectl create` (each
 * with 0 or K secondary macvlan networks), watched until all are Ready, then deleted and waited
 * for until the node holds no pod netns. Measured: each pod's created → Ready, each CRI
 * RunPodSandbox (containerd's log), the daemon's CPU seconds over apply → all Ready and its
 * peak RSS over the whole burst (delete included), and for multinet the daemon's own stage timings
 * of the burst's ADDs and DELs (its metrics, read before and after each).
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster } from '../../test/support/cluster.ts';
import type { ClusterNode } from '../../test/support/cluster-node.ts';
import { TOOLBOX_IMAGE } from '../../test/support/cluster-images.ts';
import { REPO_ROOT } from '../../test/support/control-plane.ts';
import { fetchInNetns } from '../exec-cni.ts';
import { startLoadSampler, type LoadSpan } from '../load-sampler.ts';
import type { StageRound } from '../results.ts';
import { parseStageMetrics, stageRound, type MetricSnapshot } from '../stage-metrics.ts';
import { median, round2 } from '../stats.ts';
import { logOffset, readSandboxCalls } from './containerd-log.ts';
import { startPodWatch } from './pod-watch.ts';
import { cpuSeconds, sampleRss } from './proc-usage.ts';

export const BENCH_NADS = ['bench-lan-a', 'bench-lan-b', 'bench-lan-c'];

export interface BurstSpec {
  impl: string;
  round: number;
  networks: number;
  pods: number;
  node: ClusterNode;
  daemonPid: number | undefined;
  timeoutMs: number;
}

export interface BurstResult {
  impl: string;
  round: number;
  networks: number;
  pods: number;
  /** created → Ready per pod (ms), in pod order. */
  readyMs: number[];
  /** RunPodSandbox per successful call (ms); `sandboxFailures` counts the failed ones. */
  sandboxMs: number[];
  sandboxFailures: number;
  /** Fewest entries in a pod's network-status (eth0 included; 0 without a meta-plugin). */
  minAttached: number;
  /** apply → the last pod Ready (ms). */
  allReadyMs: number;
  daemon?: { cpuAddS: number; childrenCpuAddS: number; cpuBurstS: number; peakRssBytes: number };
  /** multinet: the daemon's stage timings, mean per request, of the burst's ADDs and of its DELs. */
  stages?: { ADD?: StageRound; DEL?: StageRound };
  load: LoadSpan;
}

/** Where deploy/thick's daemon serves its metrics, inside the node's network namespace. */
const MULTINET_METRICS_URL = 'http://127.0.0.1:9091/metrics';

/** The multinet daemon's stage histograms now, read from inside its network namespace. */
async function daemonStages(pid: number): Promise<MetricSnapshot> {
  return parseStageMetrics(await fetchInNetns(`/proc/${pid}/ns/net`, MULTINET_METRICS_URL));
}

function podObject(name: string, burst: string, node: string, networks: number): object {
  const nets = BENCH_NADS.slice(0, networks).join(',');
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'default',
      labels: { 'bench.multinet.io/real-node': burst },
      ...(networks > 0 ? { annotations: { 'k8s.v1.cni.cncf.io/networks': nets } } : {}),
    },
    spec: {
      nodeSelector: { 'kubernetes.io/hostname': node },
      terminationGracePeriodSeconds: 0,
      containers: [{ name: 'toolbox', image: TOOLBOX_IMAGE, imagePullPolicy: 'Never' }],
    },
  };
}

/** A figure of pods that lack their networks measures nothing: the run says so. */
async function attachedNetworks(cluster: Cluster, selector: string): Promise<number> {
  const out = await cluster.kubectl(['get', 'pods', '-n', 'default', '-l', selector, '-o', 'json']);
  const items = (JSON.parse(out) as { items: { metadata: { annotations?: Record<string, string> } }[] })
    .items;
  const counts = items.map((p) => {
    const status = p.metadata.annotations?.['k8s.v1.cni.cncf.io/network-status'];
    return status ? (JSON.parse(status) as unknown[]).length : 0;
  });
  return Math.min(...counts);
}

async function waitNoPodNetns(node: ClusterNode, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await readdir(node.hostPath('/run/netns')).catch(() => [])).length > 0) {
    if (Date.now() > deadline) throw new Error(`${node.name}: pod netns files left after the burst's delete`);
    await sleep(250);
  }
}

export async function runRealNodeBurst(cluster: Cluster, spec: BurstSpec): Promise<BurstResult> {
  const burst = `${spec.impl}-n${spec.networks}-r${spec.round}`;
  const selector = `bench.multinet.io/real-node=${burst}`;
  const names = Array.from({ length: spec.pods }, (_, i) => `rn-${burst}-${i}`);
  const logFile = join(spec.node.dir, 'containerd.log');
  const watch = await startPodWatch(join(REPO_ROOT, 'tools/bin/kubectl'), cluster.kubeconfig, selector);
  const offset = await logOffset(logFile);
  const load = startLoadSampler(500);
  const pid = spec.daemonPid;
  const rss = pid === undefined ? undefined : sampleRss(pid);
  const cpu0 = pid === undefined ? undefined : await cpuSeconds(pid);
  const staged = spec.impl === 'multinet' ? pid : undefined;
  const s0 = staged === undefined ? undefined : await daemonStages(staged);
  const list = {
    apiVersion: 'v1',
    kind: 'List',
    items: names.map((n) => podObject(n, burst, spec.node.name, spec.networks)),
  };
  const t0 = Date.now();
  try {
    await cluster.kubectl(['create', '-f', '-'], { input: JSON.stringify(list) });
    await watch.waitReady(spec.pods, spec.timeoutMs);
  } finally {
    watch.stop();
  }
  const allReadyMs = Date.now() - t0;
  const cpu1 = pid === undefined ? undefined : await cpuSeconds(pid);
  const s1 = staged === undefined ? undefined : await daemonStages(staged);
  const attached = await attachedNetworks(cluster, selector);
  await cluster.kubectl(
    ['delete', 'pods', '-n', 'default', '-l', selector, '--wait=true', '--timeout=120s'],
    {
      timeoutMs: 130_000,
    },
  );
  await waitNoPodNetns(spec.node, 60_000);
  const cpu2 = pid === undefined ? undefined : await cpuSeconds(pid);
  const s2 = staged === undefined ? undefined : await daemonStages(staged);
  const peak = rss?.stop();
  const calls = (await readSandboxCalls(logFile, offset)).filter((c) => c.pod.startsWith(`rn-${burst}-`));
  const readyMs = names.map((n) => {
    const p = watch.pods.get(n);
    return p?.createdAt !== undefined && p.readyAt !== undefined ? p.readyAt - p.createdAt : Number.NaN;
  });
  return {
    impl: spec.impl,
    round: spec.round,
    networks: spec.networks,
    pods: spec.pods,
    readyMs,
    sandboxMs: calls.filter((c) => c.ok).map((c) => round2(c.ms)),
    sandboxFailures: calls.filter((c) => !c.ok).length,
    allReadyMs,
    minAttached: attached,
    ...(cpu0 && cpu1 && cpu2
      ? {
          daemon: {
            cpuAddS: round2(cpu1.self - cpu0.self),
            childrenCpuAddS: round2(cpu1.children - cpu0.children),
            cpuBurstS: round2(cpu2.self - cpu0.self),
            peakRssBytes: peak ?? Number.NaN,
          },
        }
      : {}),
    ...(s0 && s1 && s2
      ? {
          stages: {
            ADD: stageRound(s0, s1, 'ADD', []),
            DEL: stageRound(s1, s2, 'DEL', []),
          },
        }
      : {}),
    load: load.stop(),
  };
}

export function burstLine(r: BurstResult): string {
  const d = r.daemon
    ? ` daemon cpu ${r.daemon.cpuAddS}s (+${r.daemon.cpuBurstS - r.daemon.cpuAddS > 0 ? round2(r.daemon.cpuBurstS - r.daemon.cpuAddS) : 0}s delete) rss ${(r.daemon.peakRssBytes / 2 ** 20).toFixed(1)}MiB`
    : '';
  return `${r.impl} ${r.networks} nets round ${r.round}: ready ${median(r.readyMs).toFixed(0)} ms, RunPodSandbox ${median(r.sandboxMs).toFixed(0)} ms (${r.sandboxMs.length} ok, ${r.sandboxFailures} failed), all Ready ${r.allReadyMs} ms, networks/pod ≥ ${r.minAttached}${d}, load ${r.load.peak}`;
}
