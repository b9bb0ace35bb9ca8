/**
 * The 1-minute load average over one stretch of the run (a phase, one implementation's turn in a
 * round): at its start and end, and its peak sampled meanwhile. Above the core count, other work
 * competed with the bench and that stretch's absolute figures are inflated.
 */
import os from 'node:os';
import { round2 } from './stats.ts';

export interface LoadSpan {
  start: number;
  end: number;
  peak: number;
}

export function startLoadSampler(intervalMs = 2_000): { stop(): LoadSpan } {
  const start = os.loadavg()[0]!;
  let peak = start;
  const timer = setInterval(() => (peak = Math.max(peak, os.loadavg()[0]!)), intervalMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      const end = os.loadavg()[0]!;
      return { start: round2(start), end: round2(end), peak: round2(Math.max(peak, end)) };
    },
  };
}
