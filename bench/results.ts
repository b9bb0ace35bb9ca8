/** The shape of bench/results/<date>.json: every raw figure of one run (milliseconds, bytes). */
import type { ImplementationId } from './implementations/implementation.ts';

export interface Samples {
  add: number[];
  del: number[];
  errors: string[];
  /** The same samples by round (implementations interleaved round after round). */
  addRounds?: number[][];
  delRounds?: number[][];
  /** Highest 1-minute load average during this implementation's turn in each round. */
  roundLoadPeaks?: number[];
  /**
   * Sandbox-GC DEL: after the pod's own DEL and the pod's deletion from the API, the two DELs a
   * container runtime makes when it removes the sandbox (no plan, pod gone). Errors apart.
   */
  gcDel?: number[];
  gcDelRounds?: number[][];
  gcErrors?: string[];
}

/** One round of one pod shape: the daemon's own stage timings, mean per request (ms). */
export interface StageRound {
  requests: number;
  /** multinet_cni_request_duration_seconds: receipt to answer. */
  daemonMs: number;
  /** multinet_cni_request_stage_seconds by stage. */
  stagesMs: Record<string, number>;
  /**
   * multinet_cni_request_delegate_seconds by plugin binary: the `delegates` stage process by
   * process, as time per request and processes per request.
   */
  delegatesMs?: Record<string, { ms: number; perRequest: number }>;
  /** The bench's exec-to-exit of the same calls (mean): the rest is shim start and socket. */
  wallMs: number;
}

export interface StageBreakdown {
  implementation: ImplementationId;
  /** By network count, then command ("ADD", "DEL", "GC DEL"), one entry per round. */
  byCount: Record<string, Record<string, StageRound[]>>;
}

/** One burst of one implementation (scenario 2 runs them in rounds, implementations interleaved). */
export interface BurstRound {
  addCompletionMs: number;
  delCompletionMs: number;
  errors: number;
  /** Highest 1-minute load average sampled during this burst. */
  loadPeak: number;
}

export interface BurstRun {
  pods: number;
  networksPerPod: number;
  /** Median over the rounds (the one burst when there are no rounds). */
  addCompletionMs: number;
  delCompletionMs: number;
  rounds?: BurstRound[];
  /** Every round's per-pod latencies and errors. */
  addLatencies: number[];
  delLatencies: number[];
  errors: string[];
  /**
   * Process warnings the daemon printed during the bursts (Node's "(node:PID) XWarning: ..." lines,
   * e.g. MaxListenersExceededWarning), once each with a count.
   */
  daemonWarnings?: { line: string; count: number }[];
  /** multinet thick: the daemon's own stage timings of each burst's ADDs and DELs, one per round. */
  stages?: Record<string, StageRound[]>;
  /** Peaks sampled every sampleIntervalMs over all rounds: the daemon's RSS; PSS sums for the process groups. */
  peakDaemonRssBytes: number | null;
  peakDelegateRssBytes: number;
  /** Thin plugin / shim processes (everything we exec that is not a delegate). */
  peakPluginRssBytes: number;
  daemonAliveAfter: boolean | null;
  /** Links still in the pod namespaces after the DELs and up to 3 untimed DEL retries (then removed). */
  leftoverLinks?: number;
  sampleIntervalMs: number;
}

export interface ApiCount {
  /** "verb resource[/subresource]" -> requests. */
  byVerb: Record<string, number>;
  total: number;
  reads: number;
  writes: number;
}

export interface ApiRun {
  implementation: ImplementationId;
  /** A non-default setting this run used (e.g. "events: warnings"). */
  variant?: string;
  networksPerPod: number;
  coldAdd: ApiCount;
  coldDel: ApiCount;
  /** Averaged over warmRounds ADD/DEL pairs after the cold one. */
  warmAdd: ApiCount;
  warmDel: ApiCount;
  warmRounds: number;
  errors: string[];
}

export interface MemoryRun {
  idleRssBytes: number;
  loadedRssBytes: number;
  loadedNads: number;
  loadedPods: number;
  settleMs: number;
}

export interface ShimCandidate {
  id: string;
  label: string;
  available: boolean;
  why?: string;
  sizeBytes?: number;
  /** Exec-to-exit of CNI VERSION (answered by the shim alone). */
  version: number[];
  /** Exec-to-exit of an ADD against a stub daemon that answers at once. */
  addStub: number[];
  errors: string[];
}

export interface BenchResults {
  schema: 1;
  startedAt: string;
  finishedAt: string;
  quick: boolean;
  machine: { cpus: number; cpuModel: string; memoryBytes: number; kernel: string; node: string; go: string };
  versions: { multinet: string; multus: string; kubeApiserver: string; cniPlugins: string; bun?: string };
  environment: { cleanEnv: string[]; nodeExtraCaCertsPassed: boolean };
  implementations: { id: ImplementationId; label: string; available: boolean; why?: string }[];
  sequential: {
    iterations: number;
    networkCounts: number[];
    runs: Partial<Record<ImplementationId, Record<string, Samples>>>;
  };
  /** Scenario 1 again for one implementation with a non-default setting (same iterations and counts). */
  sequentialVariants: Record<
    string,
    { implementation: ImplementationId; variant: string; runs: Record<string, Samples> }
  >;
  parallel: {
    iterations: number;
    networkCounts: number[];
    runs: Partial<Record<ImplementationId, Record<string, Samples>>>;
  };
  burst: Partial<Record<ImplementationId, BurstRun>>;
  /** Keyed by implementation id, or "<id> (<variant>)". */
  api: Record<string, ApiRun>;
  memory: Partial<Record<ImplementationId, MemoryRun>>;
  shim: { iterations: number; candidates: ShimCandidate[] };
  durationsMs: Record<string, number>;
  /** 1-minute load average at the start and end of each phase (other work on the machine). */
  loadAverage?: Record<string, [number, number]>;
  /** Highest 1-minute load average sampled during each phase (every 2 s). */
  loadPeak?: Record<string, number>;
  /** Rounds of scenario 1 (implementations interleaved). */
  rounds?: number;
  /** Scenario 1's thick ADD and DEL as the daemon saw them (multinet thick). */
  stages?: StageBreakdown;
}
