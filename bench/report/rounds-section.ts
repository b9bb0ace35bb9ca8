/**
 * Scenario 1 across its rounds (implementations interleaved): the median of the round medians
 * and the spread (lowest–highest round median), so one run says how far its own figures can be
 * trusted; and the sandbox-GC DEL row.
 */
import type { ImplementationId } from '../implementations/implementation.ts';
import type { BenchResults, Samples } from '../results.ts';
import { median } from '../stats.ts';

const ms = (n: number): string => (Number.isFinite(n) ? n.toFixed(1) : 'n/a');

function table(head: string[], rows: string[][]): string {
  return [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => ' --- ').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

/** Median of the round medians, and "lowest–highest" of them (empty rounds skipped). */
export function acrossRounds(rounds: number[][] | undefined): { median: number; spread: string } {
  const medians = (rounds ?? []).filter((r) => r.length > 0).map((r) => median(r));
  if (medians.length === 0) return { median: Number.NaN, spread: 'n/a' };
  const lo = Math.min(...medians);
  const hi = Math.max(...medians);
  const rel = median(medians) > 0 ? ` (±${(((hi - lo) / 2 / median(medians)) * 100).toFixed(0)}%)` : '';
  return { median: median(medians), spread: `${ms(lo)}–${ms(hi)}${rel}` };
}

/** " ⚠" when the load average exceeded the cores during any of the rounds (their figures are inflated). */
export function loadMark(peaks: readonly number[] | undefined, cpus: number): string {
  const over = (peaks ?? []).filter((p) => p > cpus).length;
  return over > 0 ? ` ⚠${over > 1 ? `×${over}` : ''}` : '';
}

export function roundsSection(r: BenchResults): string {
  const ids = Object.keys(r.sequential.runs) as ImplementationId[];
  const names = new Map(r.implementations.map((i) => [i.id, i.label]));
  const get = (id: ImplementationId, n: number): Samples | undefined => r.sequential.runs[id]?.[String(n)];
  if (!r.rounds || ids.every((id) => !get(id, r.sequential.networkCounts[0]!)?.addRounds)) return '';
  const rows: string[][] = [];
  for (const n of r.sequential.networkCounts)
    for (const id of ids) {
      const s = get(id, n);
      if (!s?.addRounds) continue;
      const add = acrossRounds(s.addRounds);
      const del = acrossRounds(s.delRounds);
      const mark = loadMark(s.roundLoadPeaks, r.machine.cpus);
      rows.push([
        String(n),
        names.get(id) ?? id,
        ms(add.median),
        `${add.spread}${mark}`,
        ms(del.median),
        `${del.spread}${mark}`,
      ]);
    }
  const gcRows: string[][] = [];
  let gcCount: string | undefined;
  for (const id of ids)
    for (const n of r.sequential.networkCounts) {
      const s = get(id, n);
      if (!s?.gcDel) continue;
      gcCount = String(n);
      const gc = acrossRounds(s.gcDelRounds);
      gcRows.push([names.get(id) ?? id, ms(gc.median), gc.spread, String(s.gcErrors?.length ?? 0)]);
    }
  return [
    `## 1a. Scenario 1 across ${r.rounds} rounds (implementations interleaved)`,
    '',
    'Each round runs every implementation in turn (A B C D, A B C D, ...), all started once. Median of the',
    'round medians (ms), and the spread: the lowest and highest round median (± half that range, of the median).',
    'A difference smaller than the spreads is not shown by this run. ⚠ (×k): in k rounds the 1-minute load average',
    `exceeded the ${r.machine.cpus} cores during this implementation's turn, so other work competed with it.`,
    '',
    table(['networks', 'implementation', 'ADD', 'ADD spread', 'DEL', 'DEL spread'], rows),
    '',
    ...(gcRows.length
      ? [
          `### Sandbox-GC DEL (${gcCount} networks)`,
          '',
          "After the pod's own DEL and the pod's deletion from the API, the two DELs a container runtime",
          'makes when it removes the sandbox: no plan cached, the pod gone.',
          '',
          table(['implementation', 'GC DEL median', 'spread across rounds', 'errors'], gcRows),
          '',
        ]
      : []),
  ].join('\n');
}
