import type { CallOutcome, CniInvocation } from '../exec-cni.ts';
import type { BenchScene } from '../scene.ts';

export type ImplementationId =
  | 'baseline'
  | 'multinet-thin'
  | 'multinet-thick'
  | 'multus-thin'
  | 'multus-thick';

export interface StartOptions {
  /** multinet only: the parallelAttach extension (off by default, as in the product). */
  parallelAttach?: boolean;
  /** multinet only: which Events to write (default "all", as in the product). */
  events?: 'all' | 'warnings' | 'none';
  /** Where daemons write their logs (kept for a failed run's report). */
  logDir: string;
}

/** One implementation, started: its CNI calls, and for thick modes the daemon's pid. */
export interface RunningImplementation {
  call(inv: CniInvocation): Promise<CallOutcome>;
  /** The daemon process (thick modes): its RSS is the daemon's memory. */
  daemonPid?: number;
  /** The daemon's stdout and stderr (thick modes): Node prints its process warnings there. */
  logFile?: string;
  /** The daemon's Prometheus text (multinet thick: its stage timings). */
  metrics?(): Promise<string>;
  /** API identity (audit log user name); none for the baseline. */
  apiUser?: string;
  stop(): Promise<void>;
}

export interface Implementation {
  id: ImplementationId;
  label: string;
  family: 'baseline' | 'multinet' | 'multus';
  mode: 'direct' | 'thin' | 'thick';
  start(scene: BenchScene, opts: StartOptions): Promise<RunningImplementation>;
}
