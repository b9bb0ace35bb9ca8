/**
 * CRI RunPodSandbox durations from a node's containerd debug log (.tmp/cluster/nodeN/containerd.log):
 * containerd 1.6 logs `RunPodSandbox for &PodSandboxMetadata{Name:..,Uid:..,...}` when the call
 * arrives and the same text plus `returns sandbox id` (or `failed`) when it ends, each with a
 * nanosecond `time=`. The CNI ADD of the sandbox (the meta-plugin's whole work) runs inside it.
 */
import { open } from 'node:fs/promises';

export interface SandboxCall {
  pod: string;
  uid: string;
  ms: number;
  ok: boolean;
}

/** The log's size now: read from here after a burst to see only its calls. */
export async function logOffset(file: string): Promise<number> {
  const h = await open(file, 'r');
  try {
    return (await h.stat()).size;
  } finally {
    await h.close();
  }
}

/** `2026-12-03T13:20:01.123456789Z` (or with an offset) in milliseconds, sub-ms kept. */
export function parseLogTime(text: string): number {
  const m = /^([^.]+)(?:\.(\d+))?(.*)$/.exec(text);
  if (!m) return Number.NaN;
  const [, base, frac = '', zone] = m;
  return Date.parse(`${base}${zone}`) + Number(`0.${frac || '0'}`) * 1000;
}

const LINE =
  /time="([^"]+)".*msg="RunPodSandbox for &PodSandboxMetadata\{Name:([^,]+),Uid:([^,]+),[^}]*\}( returns sandbox id| failed)?/;

export function parseSandboxCalls(text: string): SandboxCall[] {
  const started = new Map<string, number>();
  const calls: SandboxCall[] = [];
  for (const line of text.split('\n')) {
    if (!line.includes('RunPodSandbox for')) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const [, time, pod, uid, end] = m as unknown as [string, string, string, string, string | undefined];
    const t = parseLogTime(time);
    const key = `${pod}/${uid}`;
    if (!end) {
      started.set(key, t);
      continue;
    }
    const start = started.get(key);
    if (start === undefined) continue;
    started.delete(key);
    calls.push({ pod, uid, ms: t - start, ok: end.includes('returns') });
  }
  return calls;
}

export async function readSandboxCalls(file: string, from: number): Promise<SandboxCall[]> {
  const h = await open(file, 'r');
  try {
    const size = (await h.stat()).size;
    const buf = Buffer.alloc(Math.max(0, size - from));
    await h.read(buf, 0, buf.length, from);
    return parseSandboxCalls(buf.toString('utf8'));
  } finally {
    await h.close();
  }
}
