/**
 * The daemon's own stage timings (multinet_cni_request_stage_seconds, docs/daemon.md), read from
 * its metrics endpoint before and after a block of calls: the difference of sums and counts is
 * the block's mean per request, by command.
 */
import type { StageRound } from './results.ts';

export interface MetricSnapshot {
  /** "ADD stage=plan" / "ADD delegate=bridge" / "ADD total" -> [sum seconds, count]. */
  values: Map<string, [number, number]>;
}

const LINE =
  /^multinet_cni_request_(stage_seconds|delegate_seconds|duration_seconds)_(sum|count)\{([^}]*)\} ([0-9.e+-]+)$/;

export function parseStageMetrics(text: string): MetricSnapshot {
  const values = new Map<string, [number, number]>();
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...m[3]!.matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    const key =
      m[1] === 'stage_seconds'
        ? `${labels['command']} stage=${labels['stage']}`
        : m[1] === 'delegate_seconds'
          ? `${labels['command']} delegate=${labels['plugin']}`
          : `${labels['command']} total`;
    const v = values.get(key) ?? [0, 0];
    v[m[2] === 'sum' ? 0 : 1] = Number(m[4]);
    values.set(key, v);
  }
  return { values };
}

/** Mean per request of `command` between two snapshots; undefined when no request happened. */
export function stageRound(
  before: MetricSnapshot,
  after: MetricSnapshot,
  command: string,
  wallMs: number[],
): StageRound | undefined {
  const delta = (key: string): [number, number] => {
    const a = after.values.get(key) ?? [0, 0];
    const b = before.values.get(key) ?? [0, 0];
    return [a[0] - b[0], a[1] - b[1]];
  };
  const [totalSum, requests] = delta(`${command} total`);
  if (requests <= 0) return undefined;
  const stagesMs: Record<string, number> = {};
  for (const key of after.values.keys()) {
    const prefix = `${command} stage=`;
    if (!key.startsWith(prefix)) continue;
    const [sum, count] = delta(key);
    if (count > 0) stagesMs[key.slice(prefix.length)] = round3((sum / count) * 1000);
  }
  // Each delegate binary: its processes' time per request, and how many processes per request.
  const delegatesMs: Record<string, { ms: number; perRequest: number }> = {};
  for (const key of after.values.keys()) {
    const prefix = `${command} delegate=`;
    if (!key.startsWith(prefix)) continue;
    const [sum, count] = delta(key);
    if (count > 0)
      delegatesMs[key.slice(prefix.length)] = {
        ms: round3((sum / requests) * 1000),
        perRequest: round3(count / requests),
      };
  }
  const wall = wallMs.length ? wallMs.reduce((a, b) => a + b, 0) / wallMs.length : Number.NaN;
  return {
    requests,
    daemonMs: round3((totalSum / requests) * 1000),
    stagesMs,
    delegatesMs,
    wallMs: round3(wall),
  };
}

const round3 = (n: number): number => Math.round(n * 1000) / 1000;
