/**
 * Across rounds: for each implementation and network count, the median of the round medians and
 * the spread (lowest and highest round median), so that one noisy round shows as spread instead
 * of moving the figure.
 */
import { median, round2 } from '../stats.ts';
import type { StageRound } from '../results.ts';
import type { BurstResult } from './burst.ts';

export interface Spread {
  median: number;
  min: number;
  max: number;
}

export interface SummaryRow {
  impl: string;
  networks: number;
  rounds: number;
  readyMs: Spread;
  sandboxMs: Spread;
  allReadyMs: Spread;
  sandboxFailures: number;
  daemonCpuAddS?: Spread;
  daemonPeakRssMiB?: Spread;
  /** Rounds whose 1-minute load average peaked above the core count. */
  loadedRounds: number;
}

function spread(values: number[]): Spread {
  const v = values.filter(Number.isFinite);
  return { median: round2(median(v)), min: round2(Math.min(...v)), max: round2(Math.max(...v)) };
}

export function summarize(results: BurstResult[], cores = 2): SummaryRow[] {
  const keys = [...new Set(results.map((r) => `${r.impl}\t${r.networks}`))];
  return keys.map((key) => {
    const [impl, n] = key.split('\t') as [string, string];
    const rs = results.filter((r) => r.impl === impl && r.networks === Number(n));
    const withDaemon = rs.filter((r) => r.daemon);
    return {
      impl,
      networks: Number(n),
      rounds: rs.length,
      readyMs: spread(rs.map((r) => median(r.readyMs.filter(Number.isFinite)))),
      sandboxMs: spread(rs.map((r) => median(r.sandboxMs))),
      allReadyMs: spread(rs.map((r) => r.allReadyMs)),
      sandboxFailures: rs.reduce((a, r) => a + r.sandboxFailures, 0),
      ...(withDaemon.length
        ? {
            daemonCpuAddS: spread(withDaemon.map((r) => r.daemon!.cpuAddS)),
            daemonPeakRssMiB: spread(withDaemon.map((r) => r.daemon!.peakRssBytes / 2 ** 20)),
          }
        : {}),
      loadedRounds: rs.filter((r) => r.load.peak > cores).length,
    };
  });
}

const fmt = (s: Spread | undefined, unit: string, digits = 0): string =>
  s ? `${s.median.toFixed(digits)} ${unit} (${s.min.toFixed(digits)}-${s.max.toFixed(digits)})` : '—';

export function summaryTable(rows: SummaryRow[]): string {
  const head =
    '| implementation | secondary networks | rounds | pod created → Ready | RunPodSandbox | last pod Ready | daemon CPU (apply → all Ready) | daemon peak RSS | failed RunPodSandbox | rounds with load > cores |';
  const lines = rows.map(
    (r) =>
      `| ${r.impl} | ${r.impl === 'none' ? 'any (ignored)' : r.networks} | ${r.rounds} | ${fmt(r.readyMs, 'ms')} | ${fmt(r.sandboxMs, 'ms')} | ${fmt(r.allReadyMs, 'ms')} | ${fmt(r.daemonCpuAddS, 's', 2)} | ${fmt(r.daemonPeakRssMiB, 'MiB', 1)} | ${r.sandboxFailures} | ${r.loadedRounds} |`,
  );
  return [
    'median of round medians (lowest-highest round median)',
    '',
    head,
    `|${'---|'.repeat(10)}`,
    ...lines,
  ].join('\n');
}

/** Issue 15's real-node goals, each multinet against Multus (and no meta-plugin) at one count. */
export interface RealNodeGoal {
  networks: number;
  goal: string;
  verdict: 'met' | 'not met' | 'not measured';
  figure: string;
}

export function realNodeGoals(rows: SummaryRow[]): RealNodeGoal[] {
  const none = rows.find((r) => r.impl === 'none');
  const out: RealNodeGoal[] = [];
  const counts = [...new Set(rows.filter((r) => r.impl !== 'none').map((r) => r.networks))].sort();
  for (const networks of counts) {
    const ours = rows.find((r) => r.impl === 'multinet' && r.networks === networks);
    const theirs = rows.find((r) => r.impl === 'multus' && r.networks === networks);
    const judge = (
      goal: string,
      a: number | undefined,
      b: number | undefined,
      limit: number,
      unit: string,
    ) => {
      const measured = a !== undefined && b !== undefined && Number.isFinite(a) && Number.isFinite(b);
      // ours <= limit × theirs: also right when theirs is 0 or below (Multus's RunPodSandbox can
      // come out under the no-meta-plugin rounds' in noise), where a ratio would flip its sign.
      out.push({
        networks,
        goal,
        verdict: !measured ? 'not measured' : a <= limit * b ? 'met' : 'not met',
        figure: !measured
          ? ''
          : b > 0
            ? `${(a / b).toFixed(2)} (${a.toFixed(2)} vs ${b.toFixed(2)} ${unit})`
            : `${a.toFixed(2)} vs ${b.toFixed(2)} ${unit}`,
      });
    };
    judge('pod created → Ready / Multus <= 0.9', ours?.readyMs.median, theirs?.readyMs.median, 0.9, 'ms');
    const over = (r: SummaryRow | undefined) =>
      r && none ? r.sandboxMs.median - none.sandboxMs.median : undefined;
    judge('RunPodSandbox over no meta-plugin / Multus <= 0.5', over(ours), over(theirs), 0.5, 'ms');
    judge(
      'daemon CPU for the round / Multus <= 1.0',
      ours?.daemonCpuAddS?.median,
      theirs?.daemonCpuAddS?.median,
      1,
      's',
    );
    judge(
      'daemon peak RSS / Multus <= 1.0',
      ours?.daemonPeakRssMiB?.median,
      theirs?.daemonPeakRssMiB?.median,
      1,
      'MiB',
    );
  }
  return out;
}

export function goalsTable(goals: RealNodeGoal[]): string {
  return [
    '| secondary networks | goal | verdict | figure |',
    '|---|---|---|---|',
    ...goals.map((g) => `| ${g.networks} | ${g.goal} | ${g.verdict} | ${g.figure} |`),
  ].join('\n');
}

/**
 * multinet's daemon, per network count and command: the median over rounds of its request time
 * and of each stage's (ms per request), beside RunPodSandbox (whose rest is containerd, the pause
 * sandbox, the shim's start and the socket).
 */
export function stageTable(results: BurstResult[]): string {
  const rows: string[] = [];
  const stageNames = new Set<string>();
  for (const r of results)
    for (const c of Object.values(r.stages ?? {}))
      for (const k of Object.keys(c?.stagesMs ?? {})) stageNames.add(k);
  const names = [...stageNames];
  const counts = [...new Set(results.filter((r) => r.stages).map((r) => r.networks))].sort();
  for (const networks of counts) {
    const rs = results.filter((r) => r.stages && r.networks === networks);
    for (const command of ['ADD', 'DEL'] as const) {
      const rounds = rs.map((r) => r.stages![command]).filter((x): x is StageRound => x !== undefined);
      if (!rounds.length) continue;
      const m = (f: (x: StageRound) => number | undefined) =>
        median(rounds.map(f).filter((x): x is number => x !== undefined && Number.isFinite(x))).toFixed(1);
      const sandbox = command === 'ADD' ? median(rs.map((r) => median(r.sandboxMs))).toFixed(0) : '—';
      rows.push(
        `| ${networks} | ${command} | ${rounds.length} | ${sandbox} | ${m((x) => x.daemonMs)} | ${names.map((n) => m((x) => x.stagesMs[n])).join(' | ')} |`,
      );
    }
  }
  if (!rows.length) return '';
  return [
    "multinet daemon's stages, ms per request (median over rounds)",
    '',
    `| secondary networks | command | rounds | RunPodSandbox | daemon total | ${names.join(' | ')} |`,
    `|${'---|'.repeat(5 + names.length)}`,
    ...rows,
  ].join('\n');
}
