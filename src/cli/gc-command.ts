import type { LeakFinding, LeakReport } from '../engine/find-leaks.ts';

/** `multinet gc` exit codes (docs/troubleshooting.md "Leaks"). */
export const GC_EXIT = {
  /** Nothing leaked, or everything leaked was released ("unknown" findings do not count). */
  clean: 0,
  /** Something could not be read or released; with a release, leaks are left. */
  failed: 1,
  usage: 2,
  /** --dry-run found leaks (and changed nothing). */
  leaked: 3,
} as const;

export interface GcRun {
  dryRun: boolean;
  json: boolean;
  out(s: string): void;
  scan(knownGone?: ReadonlyMap<string, string>): Promise<LeakReport>;
  /** Releases what the report calls leaked; the errors. */
  release(report: LeakReport): Promise<string[]>;
}

/** Scans, prints, and (without --dry-run) releases and scans again to say what is left. */
export async function runGc(run: GcRun): Promise<number> {
  const first = await run.scan();
  const leaked = first.findings.some((f) => f.verdict === 'leaked');
  if (run.dryRun || !leaked) {
    if (run.json) run.out(`${JSON.stringify(toJson(first, run.dryRun), null, 2)}\n`);
    else run.out(formatLeakReport(first, run.dryRun));
    return leaked ? GC_EXIT.leaked : GC_EXIT.clean;
  }
  if (!run.json) run.out(formatLeakReport(first, false));
  const errors = await run.release(first);
  // Evidence found before the release still holds: a sandbox that was gone stays gone.
  const gone = new Map(first.leakedContainers);
  for (const r of first.leakedReservations) {
    const why = first.findings.find(
      (f) => f.containerId === r.reservation.containerId && f.verdict === 'leaked',
    )?.why;
    if (why !== undefined && !gone.has(r.reservation.containerId)) gone.set(r.reservation.containerId, why);
  }
  const after = await run.scan(gone);
  const left = after.findings.filter((f) => f.verdict === 'leaked');
  if (run.json)
    run.out(
      `${JSON.stringify({ ...toJson(first, false), released: { errors, left: left.map(findingJson) } }, null, 2)}\n`,
    );
  else {
    const lines = [''];
    for (const e of errors) lines.push(`release failed: ${e}`);
    if (left.length === 0)
      lines.push(`released: ${countLeaked(first)} leaked attachment(s); nothing is left leaked`);
    else {
      lines.push('still leaked after the release:');
      for (const f of left) lines.push(formatFinding(f));
    }
    run.out(`${lines.join('\n')}\n`);
  }
  return left.length === 0 && errors.length === 0 ? GC_EXIT.clean : GC_EXIT.failed;
}

function countLeaked(r: LeakReport): number {
  return r.findings.filter((f) => f.verdict === 'leaked').length;
}

export function formatFinding(f: LeakFinding): string {
  const verdict = f.verdict === 'leaked' ? 'LEAKED ' : 'UNKNOWN';
  const pod = f.pod ? `  pod ${f.pod}` : '';
  const net = f.network === '-' ? 'no attachment' : `network ${f.network} (${f.ifName})`;
  const left = f.left.length > 0 ? f.left.join(', ') : 'nothing';
  return `${verdict}  container ${f.containerId}${pod}  ${net}  left: ${left}  why: ${f.why}`;
}

export function formatLeakReport(r: LeakReport, dryRun: boolean): string {
  const lines: string[] = [];
  for (const n of r.notes) lines.push(`note: ${n}`);
  for (const f of r.findings) lines.push(formatFinding(f));
  const leaked = countLeaked(r);
  const unknown = r.findings.length - leaked;
  const scanned = `${r.scanned.containers} container(s) with a plan or result cache, ${r.scanned.reservations} host-local reservation(s) in ${r.stores.length} store(s)`;
  if (leaked === 0)
    lines.push(
      `nothing leaked: ${r.live.length} live${unknown > 0 ? `, ${unknown} unknown (never released)` : ''}; checked ${scanned}`,
    );
  else
    lines.push(
      `${leaked} leaked, ${unknown} unknown, ${r.live.length} live; checked ${scanned}${dryRun ? '\nnothing was changed (--dry-run); "multinet gc" without --dry-run releases what is LEAKED' : ''}`,
    );
  return `${lines.join('\n')}\n`;
}

function findingJson(f: LeakFinding): Record<string, unknown> {
  return { ...f };
}

function toJson(r: LeakReport, dryRun: boolean): Record<string, unknown> {
  return {
    dryRun,
    findings: r.findings.map(findingJson),
    live: r.live,
    notes: r.notes,
    scanned: { ...r.scanned, stores: r.stores.map((s) => `${s.dataDir}/${s.network}`) },
  };
}
