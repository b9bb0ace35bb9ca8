/**
 * "Where the time goes" for multinet thick: the daemon's own stage timings
 * (multinet_cni_request_stage_seconds), mean per request and median across rounds, beside the
 * bench's exec-to-exit and the delegates run alone (the baseline).
 */
import { join } from 'node:path';
import type { BenchResults, StageRound } from '../results.ts';
import { median } from '../stats.ts';
import { stackedBarChart } from './svg-chart.ts';

const STAGE_ORDER = [
  'queue',
  'parse',
  'plan',
  'planRead',
  'planWrite',
  'delegates',
  'resultCache',
  'status',
  'answer',
];
const ms = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : 'n/a');

function table(head: string[], rows: string[][]): string {
  return [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => ' --- ').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

const mid = (rounds: StageRound[], pick: (s: StageRound) => number): number =>
  median(rounds.map(pick).filter(Number.isFinite));

export function stageSection(r: BenchResults, charts: Record<string, string>, chartDir: string): string {
  const byCount = r.stages?.byCount ?? {};
  const columns: { label: string; rounds: StageRound[]; command: string; n: string }[] = [];
  for (const command of ['ADD', 'DEL', 'GC DEL'])
    for (const n of r.sequential.networkCounts.map(String)) {
      const rounds = byCount[n]?.[command];
      if (rounds?.length) columns.push({ label: `${command} ${n}`, rounds, command, n });
    }
  if (columns.length === 0) return '';
  const stage = (c: (typeof columns)[number], s: string) => mid(c.rounds, (x) => x.stagesMs[s] ?? 0);
  const baseline = (c: (typeof columns)[number]) => {
    const b = r.sequential.runs.baseline?.[c.n];
    return median(
      c.command === 'ADD' ? (b?.add ?? []) : c.command === 'DEL' ? (b?.del ?? []) : (b?.gcDel ?? []),
    );
  };
  const plugins = [
    ...new Set(columns.flatMap((c) => c.rounds.flatMap((x) => Object.keys(x.delegatesMs ?? {})))),
  ].sort();
  // Each delegate binary inside the `delegates` stage: ms per request (processes per request).
  const delegate = (c: (typeof columns)[number], p: string) => {
    const per = mid(c.rounds, (x) => x.delegatesMs?.[p]?.perRequest ?? 0);
    return per > 0 ? `${ms(mid(c.rounds, (x) => x.delegatesMs?.[p]?.ms ?? 0))} (×${+per.toFixed(1)})` : '—';
  };
  const rows: string[][] = [
    ...STAGE_ORDER.flatMap((s) => [
      [s, ...columns.map((c) => ms(stage(c, s)))],
      ...(s === 'delegates'
        ? plugins.map((p) => [`&nbsp;&nbsp;↳ ${p}`, ...columns.map((c) => delegate(c, p))])
        : []),
    ]),
    ['**daemon, receipt to answer**', ...columns.map((c) => ms(mid(c.rounds, (x) => x.daemonMs)))],
    [
      'outside the daemon (shim start, socket)',
      ...columns.map((c) => ms(mid(c.rounds, (x) => x.wallMs - x.daemonMs))),
    ],
    ['**exec to exit (bench, mean)**', ...columns.map((c) => ms(mid(c.rounds, (x) => x.wallMs)))],
    ['delegates run alone (baseline, median)', ...columns.map((c) => ms(baseline(c)))],
  ];
  const segments = [...STAGE_ORDER, 'outside the daemon'];
  charts['stages.svg'] = stackedBarChart({
    title: 'multinet thick: where one request’s time goes (mean, median of rounds)',
    unit: 'ms',
    segments,
    bars: columns.map((c) => ({
      label: `${c.label} networks`,
      values: [...STAGE_ORDER.map((s) => stage(c, s)), mid(c.rounds, (x) => x.wallMs - x.daemonMs)],
    })),
  });
  return [
    "## 1b. Where multinet thick's time goes (scenario 1, the daemon's own timings)",
    '',
    'Mean per request (ms) of each stage as the daemon records it (`multinet_cni_request_stage_seconds`,',
    'docs/daemon.md), median across rounds; columns are command and additional networks. `delegates` is',
    "every delegate process from spawn to exit, and below it each plugin binary's share (× processes per request,",
    "`multinet_cni_request_delegate_seconds`); `plan` is the engine's time outside the other stages",
    '(pod and NAD lookups, planning, conversions). "Outside the daemon" is exec-to-exit minus the',
    "daemon's receipt-to-answer: the shim's start, its socket round trip and exit. GC DEL: no plan, pod gone.",
    '',
    table(['stage', ...columns.map((c) => c.label)], rows),
    '',
    `![stages.svg](${join(chartDir, 'stages.svg')})`,
    '',
  ].join('\n');
}

/** The same breakdown for scenario 2's bursts (multinet thick): where a request's time goes under load. */
export function burstStageSection(r: BenchResults): string {
  const b = r.burst['multinet-thick'];
  const columns = ['ADD', 'DEL']
    .map((command) => ({ command, rounds: b?.stages?.[command] ?? [] }))
    .filter((c) => c.rounds.length > 0);
  if (!b || columns.length === 0) return '';
  const plugins = [
    ...new Set(columns.flatMap((c) => c.rounds.flatMap((x) => Object.keys(x.delegatesMs ?? {})))),
  ].sort();
  const rows: string[][] = [
    ...STAGE_ORDER.flatMap((s) => [
      [s, ...columns.map((c) => ms(mid(c.rounds, (x) => x.stagesMs[s] ?? 0)))],
      ...(s === 'delegates'
        ? plugins.map((p) => [
            `&nbsp;&nbsp;↳ ${p}`,
            ...columns.map((c) => ms(mid(c.rounds, (x) => x.delegatesMs?.[p]?.ms ?? 0))),
          ])
        : []),
    ]),
    ['**daemon, receipt to answer**', ...columns.map((c) => ms(mid(c.rounds, (x) => x.daemonMs)))],
    [
      'outside the daemon (shim start, socket)',
      ...columns.map((c) => ms(mid(c.rounds, (x) => x.wallMs - x.daemonMs))),
    ],
    ['**exec to exit (bench, mean)**', ...columns.map((c) => ms(mid(c.rounds, (x) => x.wallMs)))],
  ];
  return [
    `### Where multinet thick's time goes in the burst (${b.pods} pods × ${b.networksPerPod} networks)`,
    '',
    "Mean per request (ms), median across rounds, from the daemon's metrics around each burst phase: under a",
    'burst, `queue` is the wait for a request slot (maxConcurrentRequests) and the container lock.',
    '',
    table(['stage', ...columns.map((c) => `burst ${c.command}`)], rows),
    '',
  ].join('\n');
}
