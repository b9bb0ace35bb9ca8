/**
 * A daemon process's CPU seconds and resident memory, read from /proc: utime + stime of the
 * process itself (its delegate plugins are children; their time, once reaped, is in
 * cutime + cstime and reported apart), and VmRSS sampled every 100 ms for the peak of a window
 * (VmHWM would carry the start-up peak of a daemon that started before the window).
 */
import { readFile } from 'node:fs/promises';

const CLK_TCK = 100;

export interface CpuSample {
  self: number;
  children: number;
}

export async function cpuSeconds(pid: number): Promise<CpuSample> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces), from field 3 on.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const n = (i: number): number => Number(f[i - 3]);
  return { self: (n(14) + n(15)) / CLK_TCK, children: (n(16) + n(17)) / CLK_TCK };
}

export async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return kb === undefined ? Number.NaN : Number(kb) * 1024;
}

export interface RssSampler {
  /** Stops sampling; returns the peak seen (bytes). */
  stop(): number;
}

export function sampleRss(pid: number, everyMs = 100): RssSampler {
  let peak = 0;
  const tick = (): void =>
    void rssBytes(pid).then(
      (b) => (peak = Number.isFinite(b) ? Math.max(peak, b) : peak),
      () => {},
    );
  tick();
  const timer = setInterval(tick, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return peak;
    },
  };
}
