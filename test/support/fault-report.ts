/**
 * Figures of the reliability suite (test/reliability). Every test file runs in its own process;
 * they append JSON lines to one file per run (keyed by the test runner's pid, their common
 * parent), and test/reliability/zz-report.test.ts, which runs last, turns them into the printed
 * summary and a report file (test/reliability/REPORT.md only through `npm run reliability:report`).
 */
import { appendFileSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { TestContext, TestOptions } from 'node:test';
import { test } from 'node:test';

const PREFIX = 'multinet-reliability-';
export const FIGURES_FILE = join(tmpdir(), `${PREFIX}${process.ppid}.jsonl`);

export type Figure =
  | { kind: 'scenario-start'; file: string; name: string }
  | { kind: 'scenario'; file: string; name: string; passed: boolean; ms: number; error?: string }
  /** Inputs a property tried against one target (shrinking runs included). */
  | { kind: 'fuzz'; target: string; cases: number }
  /** What a scenario found left behind; `items` must be empty. */
  | { kind: 'leaks'; scenario: string; items: string[] }
  | { kind: 'storm'; [key: string]: unknown }
  | { kind: 'note'; scenario: string; text: string };

export function record(figure: Figure): void {
  appendFileSync(FIGURES_FILE, `${JSON.stringify(figure)}\n`);
}

/** Every figure of this run (and of runs whose runner is gone, which are then removed). */
export function readFigures(): Figure[] {
  const out: Figure[] = [];
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(PREFIX) || !name.endsWith('.jsonl')) continue;
    const path = join(tmpdir(), name);
    const pid = Number(name.slice(PREFIX.length, -'.jsonl'.length));
    if (path !== FIGURES_FILE) {
      if (!alive(pid)) rmSync(path, { force: true });
      continue;
    }
    for (const line of readFileSync(path, 'utf8').split('\n'))
      if (line.trim() !== '') out.push(JSON.parse(line) as Figure);
  }
  return out;
}

export function removeFigures(): void {
  rmSync(FIGURES_FILE, { force: true });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Counts the inputs a fast-check property sees; call `count()` inside the property. */
export function fuzzCounter(target: string): { count(): void; done(): number } {
  let cases = 0;
  return {
    count: () => void cases++,
    done: () => {
      record({ kind: 'fuzz', target, cases });
      return cases;
    },
  };
}

/** Records what a scenario found left behind (empty = nothing) and returns it for the assertion. */
export function recordLeaks(scenarioName: string, items: string[]): string[] {
  record({ kind: 'leaks', scenario: scenarioName, items });
  return items;
}

/** A node:test test whose outcome is counted in the report. */
export function scenario(
  name: string,
  fn: (t: TestContext) => Promise<void>,
  options: TestOptions = {},
): ReturnType<typeof test> {
  const file = basename(process.argv[1] ?? 'unknown');
  return test(name, options, async (t) => {
    record({ kind: 'scenario-start', file, name });
    const t0 = Date.now();
    try {
      await fn(t);
      record({ kind: 'scenario', file, name, passed: true, ms: Date.now() - t0 });
    } catch (err) {
      const error = (err instanceof Error ? err.message : String(err)).slice(0, 500);
      record({ kind: 'scenario', file, name, passed: false, ms: Date.now() - t0, error });
      throw err;
    }
  });
}
