/**
 * Resident memory from /proc: one process (VmRSS), or every process below the bench sampled
 * over time and summed by role, so a daemon's own memory is told apart from the delegate plugin
 * processes it runs (a thick daemon's delegates run in, and count against, the daemon's cgroup).
 */
import { readdirSync, readFileSync } from 'node:fs';

export function rssBytes(pid: number): number | null {
  return statusBytes(pid, 'VmRSS');
}

/** A size line of /proc/PID/status (VmRSS, VmHWM: the peak RSS, ...) in bytes; null once gone. */
export function statusBytes(pid: number, key: 'VmRSS' | 'VmHWM'): number | null {
  try {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** The reference CNI plugins' binary names (comm): what counts as a delegate process. */
const DELEGATES = new Set([
  'bridge',
  'macvlan',
  'host-local',
  'loopback',
  'ptp',
  'tuning',
  'static',
  'portmap',
  'bandwidth',
  'firewall',
  'sbr',
  'host-device',
  'ipvlan',
  'vlan',
  'vrf',
  'dhcp',
]);
const PAGE = 4096;

/** Proportional set size (shared pages divided among the processes sharing them). */
function pssBytes(pid: number): number | null {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

interface Proc {
  pid: number;
  ppid: number;
  comm: string;
  rss: number;
}

function snapshot(): Proc[] {
  const out: Proc[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const fields = stat.slice(close + 2).split(' ');
      out.push({ pid: Number(name), ppid: Number(fields[1]), comm, rss: Number(fields[21]) * PAGE });
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

export interface MemoryPeaks {
  daemon: number;
  delegates: number;
  plugins: number;
}

/**
 * Samples every `intervalMs` until stopped: daemon RSS, the PSS sum over delegate processes, and
 * the PSS sum over other processes we exec (thin plugins, shims, nsenter) below `rootPid`, minus
 * the long-lived helpers in `exclude` (control plane, API forwarder, baseline worker).
 */
export function startMemorySampler(opts: {
  rootPid: number;
  daemonPid?: number;
  exclude: (pid: number) => boolean;
  intervalMs: number;
}): { stop(): MemoryPeaks } {
  const peaks: MemoryPeaks = { daemon: 0, delegates: 0, plugins: 0 };
  const sample = () => {
    const procs = snapshot();
    const children = new Map<number, Proc[]>();
    for (const p of procs) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
    let delegates = 0;
    let plugins = 0;
    let daemon = 0;
    const stack = [...(children.get(opts.rootPid) ?? [])];
    while (stack.length > 0) {
      const p = stack.pop()!;
      stack.push(...(children.get(p.pid) ?? []));
      if (opts.exclude(p.pid)) continue; // its own memory only: its children still count
      if (p.pid === opts.daemonPid) daemon = p.rss;
      // Sums use PSS: a hundred processes of one binary share its text, which RSS counts 100 times.
      else if (DELEGATES.has(p.comm)) delegates += pssBytes(p.pid) ?? p.rss;
      else plugins += pssBytes(p.pid) ?? p.rss;
    }
    peaks.daemon = Math.max(peaks.daemon, daemon);
    peaks.delegates = Math.max(peaks.delegates, delegates);
    peaks.plugins = Math.max(peaks.plugins, plugins);
  };
  sample();
  const timer = setInterval(sample, opts.intervalMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return peaks;
    },
  };
}

/** Pids whose command line matches (for excluding long-lived helpers from the sums). */
export function pidsMatching(pattern: RegExp): Set<number> {
  const found = new Set<number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (pattern.test(readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ')))
        found.add(Number(name));
    } catch {
      // exited meanwhile
    }
  }
  return found;
}
