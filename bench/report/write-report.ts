/**
 * bench/REPORT.md and its SVG charts (charts/ beside it), regenerated from one results file.
 * Every figure in the report is computed here from the raw samples; nothing is typed by hand.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import type { ImplementationId } from '../implementations/implementation.ts';
import type { ApiCount, BenchResults, Samples } from '../results.ts';
import { median, p99 } from '../stats.ts';
import { addOverhead, judgeGoals } from './goals.ts';
import { barChart, lineChart, type Bar } from './svg-chart.ts';
import { acrossRounds, loadMark, roundsSection } from './rounds-section.ts';
import { burstStageSection, stageSection } from './stage-section.ts';

const MiB = 2 ** 20;
const ms = (n: number): string => (Number.isFinite(n) ? n.toFixed(1) : 'n/a');
const mib = (n: number | null | undefined): string =>
  n !== null && n !== undefined && Number.isFinite(n) ? (n / MiB).toFixed(1) : 'n/a';
const ratio = (a: number, b: number): string =>
  Number.isFinite(a / b) && b !== 0 ? (a / b).toFixed(2) : 'n/a';
const FAMILY_GROUP: Record<ImplementationId, number> = {
  baseline: 0,
  'multinet-thin': 1,
  'multinet-thick': 2,
  'multus-thin': 3,
  'multus-thick': 4,
};

/** Errors grouped by their first line with names, ids and numbers masked, most frequent first. */
export function summarizeErrors(errors: string[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const e of errors) {
    const oneLine = e.replace(/\s+/g, ' ').trim();
    const key = oneLine
      .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<uid>')
      .replace(/burst-[a-z-]+-\d+/g, '<pod>')
      .replace(/\d+/g, 'N')
      .replace(/`/g, "'")
      .slice(0, 220);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts.entries()].sort((a, b) => b[1] - a[1]);
}

function table(head: string[], rows: string[][]): string {
  return [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => ' --- ').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

function labels(r: BenchResults): Map<ImplementationId, string> {
  return new Map(r.implementations.map((i) => [i.id, i.label]));
}

function sequentialSection(r: BenchResults, charts: Record<string, string>, chartDir: string): string {
  const names = labels(r);
  const ids = Object.keys(r.sequential.runs) as ImplementationId[];
  if (ids.length === 0) return '';
  const get = (id: ImplementationId, n: number): Samples | undefined => r.sequential.runs[id]?.[String(n)];
  // The implementations, then the diagnostic variants (scenario 1 again with one setting changed).
  const lines: { label: string; baseline: boolean; at: (n: number) => Samples | undefined }[] = [
    ...ids.map((id) => ({
      label: names.get(id) ?? id,
      baseline: id === 'baseline',
      at: (n: number) => get(id, n),
    })),
    ...Object.values(r.sequentialVariants ?? {}).map((v) => ({
      label: `${names.get(v.implementation) ?? v.implementation} (${v.variant})`,
      baseline: false,
      at: (n: number) => v.runs[String(n)],
    })),
  ];
  const baseAdd = (n: number) => median(get('baseline', n)?.add ?? []);
  const baseDel = (n: number) => median(get('baseline', n)?.del ?? []);
  const rows: string[][] = [];
  for (const n of r.sequential.networkCounts) {
    for (const line of lines) {
      const s = line.at(n);
      if (!s) continue;
      rows.push([
        String(n),
        line.label,
        ms(median(s.add)),
        ms(p99(s.add)),
        line.baseline ? '—' : ms(median(s.add) - baseAdd(n)),
        ms(median(s.del)),
        ms(p99(s.del)),
        line.baseline ? '—' : ms(median(s.del) - baseDel(n)),
        String(s.errors.length),
      ]);
    }
  }
  const ratioRows = r.sequential.networkCounts.map((n) => {
    const o = (id: ImplementationId) => addOverhead(r, id, n);
    const t = (id: ImplementationId) => median(get(id, n)?.add ?? []);
    return [
      String(n),
      ratio(t('multinet-thin'), t('multus-thin')),
      ratio(o('multinet-thin'), o('multus-thin')),
      ratio(t('multinet-thick'), t('multus-thick')),
      ratio(o('multinet-thick'), o('multus-thick')),
    ];
  });
  charts['latency-vs-networks.svg'] = lineChart({
    title: 'Pod ADD, median exec-to-exit (sequential)',
    xLabel: 'additional networks per pod',
    yLabel: 'ms',
    series: ids.map((id) => ({
      name: names.get(id) ?? id,
      dashed: id === 'baseline',
      points: r.sequential.networkCounts.map((n) => [n, median(get(id, n)?.add ?? [])] as [number, number]),
    })),
  });
  charts['overhead-vs-networks.svg'] = lineChart({
    title: 'ADD overhead over the baseline (median)',
    xLabel: 'additional networks per pod',
    yLabel: 'ms over delegates alone',
    series: lines
      .filter((l) => !l.baseline)
      .map((l) => ({
        name: l.label.replace(' (events: warnings)', ', no Events'),
        dashed: l.label.includes('('),
        points: r.sequential.networkCounts.map(
          (n) => [n, median(l.at(n)?.add ?? []) - baseAdd(n)] as [number, number],
        ),
      })),
  });
  const link = (f: string) => `![${f}](${join(chartDir, f)})`;
  return [
    `## 1. Sequential ADD + DEL of one pod (${r.sequential.iterations} iterations each)`,
    '',
    'Milliseconds from exec to exit of the CNI call as a runtime makes it (baseline: the delegates alone).',
    'Overhead = median − baseline median for the same pod shape.',
    '',
    table(
      [
        'networks',
        'implementation',
        'ADD median',
        'ADD p99',
        'ADD overhead',
        'DEL median',
        'DEL p99',
        'DEL overhead',
        'errors',
      ],
      rows,
    ),
    '',
    'Ratios multinet / Multus (below 1.0: multinet is faster):',
    '',
    table(
      ['networks', 'thin ADD total', 'thin ADD overhead', 'thick ADD total', 'thick ADD overhead'],
      ratioRows,
    ),
    '',
    link('latency-vs-networks.svg'),
    '',
    link('overhead-vs-networks.svg'),
    '',
  ].join('\n');
}

function parallelSection(r: BenchResults): string {
  const ids = Object.keys(r.parallel.runs) as ImplementationId[];
  if (ids.length === 0) return '';
  const rows: string[][] = [];
  for (const id of ids)
    for (const n of r.parallel.networkCounts) {
      const par = r.parallel.runs[id]?.[String(n)];
      const ser = r.sequential.runs[id]?.[String(n)];
      if (!par) continue;
      rows.push([
        id,
        String(n),
        ms(median(ser?.add ?? [])),
        ms(median(par.add)),
        ms(p99(par.add)),
        ratio(median(par.add), median(ser?.add ?? [])),
        String(par.errors.length),
      ]);
    }
  return [
    `## 6. parallelAttach (extension, off by default; ${r.parallel.iterations} iterations)`,
    '',
    'NPWG §7.3 requires the additional networks to be attached one after the other; `parallelAttach: true`',
    "runs them at once after the default network. The serial column is scenario 1's figure.",
    '',
    table(
      [
        'implementation',
        'networks',
        'serial ADD median',
        'parallel ADD median',
        'parallel ADD p99',
        'parallel / serial',
        'errors',
      ],
      rows,
    ),
    '',
  ].join('\n');
}

function burstSection(r: BenchResults, charts: Record<string, string>, chartDir: string): string {
  const names = labels(r);
  const ids = Object.keys(r.burst) as ImplementationId[];
  if (ids.length === 0) return '';
  const any = r.burst[ids[0]!]!;
  const spread = (b: (typeof r.burst)[ImplementationId], pick: 'addCompletionMs' | 'delCompletionMs') =>
    b?.rounds?.length
      ? `${acrossRounds(b.rounds.map((x) => [x[pick]])).spread}${loadMark(
          b.rounds.map((x) => x.loadPeak),
          r.machine.cpus,
        )}`
      : 'n/a';
  const rows = ids.map((id) => {
    const b = r.burst[id]!;
    return [
      names.get(id) ?? id,
      ms(b.addCompletionMs),
      spread(b, 'addCompletionMs'),
      ms(median(b.addLatencies)),
      ms(p99(b.addLatencies)),
      ms(b.delCompletionMs),
      spread(b, 'delCompletionMs'),
      String(b.errors.length),
      mib(b.peakDaemonRssBytes),
      mib(b.peakDelegateRssBytes),
      mib(b.peakPluginRssBytes),
      b.daemonAliveAfter === null ? '—' : b.daemonAliveAfter ? 'yes' : 'NO',
      b.leftoverLinks === undefined ? 'n/a' : String(b.leftoverLinks),
      b.daemonWarnings === undefined
        ? b.daemonAliveAfter === null
          ? '—'
          : '0'
        : String(b.daemonWarnings.reduce((n, w) => n + w.count, 0)),
    ];
  });
  const warnings = ids.flatMap((id) =>
    (r.burst[id]!.daemonWarnings ?? []).map((w) => `- ${names.get(id) ?? id}: ${w.count} × \`${w.line}\``),
  );
  const ratioLine = (a: ImplementationId, b: ImplementationId) => {
    const x = r.burst[a];
    const y = r.burst[b];
    if (!x || !y) return '';
    const caveat = [x, y].some((z) => z.errors.length > 0)
      ? ` (not comparable: ${x.errors.length} and ${y.errors.length} failed calls)`
      : '';
    return `${a} / ${b}: ADD completion ${ratio(x.addCompletionMs, y.addCompletionMs)}${caveat}`;
  };
  charts['burst-completion.svg'] = barChart({
    title: `Burst: ${any.pods} pods × ${any.networksPerPod} networks, ADD all at once`,
    unit: 'ms until the last ADD returned',
    bars: ids.flatMap<Bar>((id) => [
      { label: `${names.get(id) ?? id} ADD`, value: r.burst[id]!.addCompletionMs, group: FAMILY_GROUP[id] },
      { label: `${names.get(id) ?? id} DEL`, value: r.burst[id]!.delCompletionMs, group: FAMILY_GROUP[id] },
    ]),
  });
  const errors = ids.flatMap((id) =>
    summarizeErrors(r.burst[id]!.errors).map(([e, n]) => `- ${names.get(id) ?? id}: ${n} × \`${e}\``),
  );
  return [
    `## 2. Burst: ${any.pods} pods × ${any.networksPerPod} networks, ADD all at once, then DEL all`,
    '',
    `Peaks sampled every ${any.sampleIntervalMs} ms: the daemon's RSS; the PSS sum of the delegate plugin processes (which a`,
    "thick daemon's cgroup would be charged for); the PSS sum of our exec'd plugin/shim processes (+ nsenter).",
    'A call that failed counts as an error, whatever the reason: no retry is made for it (a kubelet would retry later).',
    ...(any.rounds && any.rounds.length > 1
      ? [
          `${any.rounds.length} bursts per implementation, interleaved (A B C D, A B C D, ...): "ADD all" and "DEL all" are the median`,
          'burst, the spread the fastest and slowest (⚠: the load average exceeded the cores during one of them). Latencies,',
          'errors and peaks are over all bursts.',
        ]
      : []),
    '',
    table(
      [
        'implementation',
        'ADD all (ms)',
        'ADD all spread',
        'per-pod ADD median',
        'per-pod ADD p99',
        'DEL all (ms)',
        'DEL all spread',
        'errors',
        'daemon peak MiB',
        'delegates peak PSS MiB',
        'plugins/shims peak PSS MiB',
        'daemon alive',
        'links left after 3 DEL retries',
        'daemon process warnings',
      ],
      rows,
    ),
    '',
    [ratioLine('multinet-thin', 'multus-thin'), ratioLine('multinet-thick', 'multus-thick')]
      .filter(Boolean)
      .join('; '),
    '',
    `![burst-completion.svg](${join(chartDir, 'burst-completion.svg')})`,
    '',
    ...(errors.length ? ['Errors by kind (pod names, ids and numbers masked):', '', ...errors, ''] : []),
    ...(warnings.length
      ? [
          "Process warnings in the daemon's log during the bursts (Node's own, e.g. a listener leak):",
          '',
          ...warnings,
          '',
        ]
      : []),
  ].join('\n');
}

function apiSection(r: BenchResults): string {
  const names = labels(r);
  const keys = Object.keys(r.api);
  if (keys.length === 0) return '';
  const label = (k: string) => {
    const a = r.api[k]!;
    return `${names.get(a.implementation) ?? a.implementation}${a.variant ? ` (${a.variant})` : ''}`;
  };
  const fmtCount = (c: ApiCount) => `${+c.reads.toFixed(1)} / ${+c.writes.toFixed(1)}`;
  const detail = (c: ApiCount) =>
    Object.entries(c.byVerb)
      .sort()
      .map(([k, v]) => `${k} ×${+v.toFixed(1)}`)
      .join(', ') || 'none';
  const rows = keys.map((k) => {
    const a = r.api[k]!;
    return [
      label(k),
      fmtCount(a.coldAdd),
      fmtCount(a.warmAdd),
      fmtCount(a.coldDel),
      fmtCount(a.warmDel),
      String(a.errors.length),
    ];
  });
  const details = keys.map((k) => {
    const a = r.api[k]!;
    return `- **${label(k)}** — warm ADD: ${detail(a.warmAdd)}; warm DEL: ${detail(a.warmDel)}; cold ADD: ${detail(a.coldAdd)}`;
  });
  const first = r.api[keys[0]!]!;
  return [
    `## 3. API requests per ADD and DEL (pod with ${first.networksPerPod} networks; audit log of the API server)`,
    '',
    `reads / writes per call. Cold: the first call after start; warm: mean of the next ${first.warmRounds} calls, each for`,
    "its own pod created before the implementation started. Watches (a daemon's caches) are long-running and not",
    'counted per call. Both implementations write an Event per attachment by default.',
    '',
    table(['implementation', 'cold ADD', 'warm ADD', 'cold DEL', 'warm DEL', 'errors'], rows),
    '',
    ...details,
    '',
  ].join('\n');
}

function memorySection(r: BenchResults, charts: Record<string, string>, chartDir: string): string {
  const names = labels(r);
  const ids = Object.keys(r.memory) as ImplementationId[];
  if (ids.length === 0) return '';
  const m0 = r.memory[ids[0]!]!;
  const rows = ids.map((id) => {
    const m = r.memory[id]!;
    return [names.get(id) ?? id, mib(m.idleRssBytes), mib(m.loadedRssBytes)];
  });
  const burstRows = ids
    .filter((id) => r.burst[id])
    .map((id) => [
      names.get(id) ?? id,
      mib(r.burst[id]!.peakDaemonRssBytes),
      mib(r.burst[id]!.peakDelegateRssBytes),
    ]);
  charts['memory.svg'] = barChart({
    title: 'Daemon resident memory (RSS)',
    unit: 'MiB',
    limit: { value: 64, label: 'goal: 64 MiB idle' },
    bars: ids.flatMap<Bar>((id) => [
      {
        label: `${names.get(id) ?? id}, idle`,
        value: r.memory[id]!.idleRssBytes / MiB,
        group: FAMILY_GROUP[id],
      },
      {
        label: `${names.get(id) ?? id}, ${m0.loadedNads} NADs`,
        value: r.memory[id]!.loadedRssBytes / MiB,
        group: FAMILY_GROUP[id],
      },
      ...(r.burst[id]?.peakDaemonRssBytes
        ? [
            {
              label: `${names.get(id) ?? id}, burst peak`,
              value: r.burst[id]!.peakDaemonRssBytes! / MiB,
              group: FAMILY_GROUP[id],
            },
          ]
        : []),
    ]),
  });
  return [
    '## 4. Daemon memory',
    '',
    `RSS of a freshly started daemon after ${m0.settleMs} ms: idle (the bench's own few objects), and with ${m0.loadedNads} NADs`,
    `and ${m0.loadedPods} pods on the node in its caches.`,
    '',
    table(['daemon', 'idle RSS MiB', `RSS with ${m0.loadedNads} NADs + ${m0.loadedPods} pods, MiB`], rows),
    '',
    ...(burstRows.length
      ? [
          'During the burst (scenario 2):',
          '',
          table(['daemon', 'peak daemon RSS MiB', 'peak delegates RSS MiB'], burstRows),
          '',
        ]
      : []),
    `![memory.svg](${join(chartDir, 'memory.svg')})`,
    '',
  ].join('\n');
}

function shimSection(r: BenchResults, charts: Record<string, string>, chartDir: string): string {
  const cs = r.shim.candidates;
  if (cs.length === 0) return '';
  const go = cs.find((c) => c.id === 'multus-go');
  const goAdd = go ? median(go.addStub) : Number.NaN;
  const sorted = [...cs].sort((a, b) => (median(a.addStub) || Infinity) - (median(b.addStub) || Infinity));
  const rows = sorted.map((c) =>
    c.available
      ? [
          c.label,
          ms(median(c.version)),
          ms(p99(c.version)),
          ms(median(c.addStub)),
          ms(p99(c.addStub)),
          ratio(median(c.addStub), goAdd),
          c.sizeBytes ? mib(c.sizeBytes) : 'n/a',
          String(c.errors.length),
        ]
      : [
          c.label,
          '—',
          '—',
          '—',
          '—',
          '—',
          '—',
          `unavailable: ${c.why?.replace(/\|/g, '/').replace(/\n/g, ' ')}`,
        ],
  );
  charts['shim.svg'] = barChart({
    title: 'Shim exec-to-exit, ADD against a stub daemon (median)',
    unit: 'ms',
    bars: sorted.map((c) => ({
      label: c.label,
      value: c.available ? median(c.addStub) : Number.NaN,
      group: c.id === 'multus-go' ? 4 : c.id.startsWith('bun') ? 5 : 1,
      note: c.available ? '' : 'unavailable',
    })),
  });
  return [
    `## 5. Shim exec-to-exit (${r.shim.iterations} runs each, interleaved)`,
    '',
    'VERSION is answered by the shim alone (pure start-up); ADD goes to a stub daemon on a unix socket that',
    "answers at once (start-up + one request; Multus's shim also probes /healthz first, as it always does).",
    '',
    table(
      [
        'candidate',
        'VERSION median',
        'VERSION p99',
        'ADD median',
        'ADD p99',
        'ADD / Go shim',
        'size MiB',
        'errors',
      ],
      rows,
    ),
    '',
    `![shim.svg](${join(chartDir, 'shim.svg')})`,
    '',
  ].join('\n');
}

export function renderReport(
  r: BenchResults,
  resultsPath: string,
  chartDir: string,
): { markdown: string; charts: Record<string, string> } {
  const charts: Record<string, string> = {};
  const goals = judgeGoals(r);
  const unavailable = r.implementations.filter((i) => !i.available);
  const markdown = [
    '# multinet benchmarks',
    '',
    `<!-- Generated by \`npm run bench\` from ${resultsPath}; do not edit by hand. -->`,
    '',
    `Run ${r.startedAt} → ${r.finishedAt}${r.quick ? ' — **quick smoke run: few iterations, figures are indicative only**' : ''}.`,
    `Machine: ${r.machine.cpus} × ${r.machine.cpuModel}, ${(r.machine.memoryBytes / 2 ** 30).toFixed(0)} GiB, Linux ${r.machine.kernel}, node ${r.machine.node}.`,
    `Versions: multinet ${r.versions.multinet}, Multus ${r.versions.multus}, ${r.versions.kubeApiserver}, CNI plugins ${r.versions.cniPlugins}.`,
    `Plugins and daemons ran with a clean environment (${r.environment.cleanEnv.join(', ')} only; no NODE_EXTRA_CA_CERTS).`,
    'Method: [docs/benchmarks.md](../docs/benchmarks.md). Raw figures: [' +
      basename(resultsPath) +
      '](' +
      resultsPath +
      ').',
    '',
    ...(r.loadAverage
      ? [
          `1-minute load average per phase (start → end, peak; ${r.machine.cpus} cores; ⚠ = the load exceeded the cores, absolute figures of that phase are inflated): ` +
            Object.entries(r.loadAverage)
              .map(([k, [a, b]]) => {
                const peak = Math.max(a, b, r.loadPeak?.[k] ?? 0);
                const flag = peak > r.machine.cpus ? ' ⚠' : '';
                return `${k.replace(/^\d\. /, '')} ${a} → ${b}${r.loadPeak ? `, peak ${peak}` : ''}${flag}`;
              })
              .join('; ') +
            '.',
          '',
        ]
      : []),
    ...(unavailable.length
      ? ['Not run: ' + unavailable.map((i) => `${i.label} (${i.why})`).join('; '), '']
      : []),
    '## Goals',
    '',
    table(
      ['goal', 'verdict', 'figure'],
      goals.map((g) => [
        g.goal,
        g.verdict === 'met' ? '✅ met' : g.verdict === 'not met' ? '❌ not met' : g.verdict,
        g.figure,
      ]),
    ),
    '',
    sequentialSection(r, charts, chartDir),
    roundsSection(r),
    stageSection(r, charts, chartDir),
    burstSection(r, charts, chartDir),
    burstStageSection(r),
    apiSection(r),
    memorySection(r, charts, chartDir),
    shimSection(r, charts, chartDir),
    parallelSection(r),
  ].join('\n');
  return { markdown: `${markdown.replace(/\n{3,}/g, '\n\n').trimEnd()}\n`, charts };
}

/** Writes the report and its charts (to charts/ beside the report). */
export async function writeReport(r: BenchResults, resultsFile: string, reportFile: string): Promise<void> {
  const dir = dirname(reportFile);
  const chartsDir = join(dir, 'charts');
  await mkdir(chartsDir, { recursive: true });
  const { markdown, charts } = renderReport(r, relative(dir, resultsFile), 'charts');
  for (const [name, svg] of Object.entries(charts)) await writeFile(join(chartsDir, name), svg);
  await writeFile(reportFile, markdown);
}
