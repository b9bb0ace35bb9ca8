import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BenchResults, Samples, ShimCandidate } from '../results.ts';
import { judgeGoals } from './goals.ts';

const samples = (add: number, del: number): Samples => ({
  add: [add, add, add],
  del: [del, del, del],
  errors: [],
});

/** Scenario 1 with the given ADD/DEL medians per implementation at each network count. */
function results(
  seq: Record<string, Record<number, [number, number]>>,
  extra: Partial<BenchResults> = {},
): BenchResults {
  const counts = Object.keys(Object.values(seq)[0] ?? {}).map(Number);
  const runs = Object.fromEntries(
    Object.entries(seq).map(([id, byCount]) => [
      id,
      Object.fromEntries(Object.entries(byCount).map(([n, [a, d]]) => [n, samples(a, d)])),
    ]),
  );
  return {
    sequential: { iterations: 3, networkCounts: counts, runs },
    parallel: { iterations: 0, networkCounts: [], runs: {} },
    burst: {},
    api: {},
    memory: {},
    shim: { iterations: 0, candidates: [] },
    ...extra,
  } as unknown as BenchResults;
}

const goal = (r: BenchResults, starts: string) => {
  const g = judgeGoals(r).find((x) => x.goal.startsWith(starts));
  assert.ok(g, `no goal "${starts}"`);
  return g;
};

describe('judgeGoals', () => {
  it('judges thick ADD overhead against half of Multus thick at every count', () => {
    const r = (ours8: number) =>
      results({
        baseline: { 0: [10, 20], 8: [80, 200] },
        'multinet-thick': { 0: [30, 40], 8: [ours8, 240] },
        'multus-thick': { 0: [60, 30], 8: [160, 200] },
      });
    // Overheads: n=0 20 vs 50 (0.40); n=8 40 vs 80 (0.50, on the limit) or 41 (0.51).
    assert.deepEqual(goal(r(120), 'Thick ADD'), {
      goal: goal(r(120), 'Thick ADD').goal,
      verdict: 'met',
      figure: 'n=0: 0.40, n=8: 0.50',
    });
    assert.equal(goal(r(121), 'Thick ADD').verdict, 'not met');
  });

  it('never calls a goal met when the reference overhead is 0 or below', () => {
    const r = results({
      baseline: { 0: [10, 20] },
      'multinet-thick': { 0: [15, 30] },
      'multus-thick': { 0: [8, 19] },
    });
    // Multus thick ADD overhead -2 ms: a ratio (-2.5) would pass "<= 0.5"; 5 ms over it does not.
    const add = goal(r, 'Thick ADD');
    assert.equal(add.verdict, 'not met');
    assert.equal(add.figure, 'n=0: 5.0 vs -2.0 ms');
    const del = goal(r, 'Thick DEL');
    assert.equal(del.verdict, 'not met');
    assert.equal(del.figure, 'n=0: 10.0 vs -1.0 ms');
  });

  it('reports a goal whose implementation did not run as not measured', () => {
    const r = results({ baseline: { 0: [10, 20] }, 'multinet-thick': { 0: [15, 30] } });
    assert.equal(goal(r, 'Thick ADD').verdict, 'not measured');
    assert.equal(goal(r, 'Thin ADD').verdict, 'not measured');
    assert.equal(goal(r, 'Shim ADD').verdict, 'not measured');
  });

  it('takes the fastest available TypeScript shim against the Go shim', () => {
    const shim = (id: string, ms: number, available = true): ShimCandidate => ({
      id,
      label: id,
      available,
      version: [ms],
      addStub: available ? [ms, ms] : [],
      errors: [],
    });
    const r = results(
      { baseline: { 0: [10, 20] } },
      {
        shim: {
          iterations: 2,
          candidates: [
            shim('multus-go', 10),
            shim('node-bundle', 30),
            shim('bun-compile', 11.5),
            shim('x', 1, false),
          ],
        },
      },
    );
    assert.deepEqual(
      { verdict: goal(r, 'Shim ADD').verdict, figure: goal(r, 'Shim ADD').figure },
      { verdict: 'met', figure: '1.15: bun-compile 11.5 ms vs Go 10.0 ms' },
    );
  });

  it('fails the burst goal on any error, however fast', () => {
    const burst = (ms: number, errors: string[]) => ({
      pods: 100,
      networksPerPod: 3,
      addCompletionMs: ms,
      delCompletionMs: ms,
      addLatencies: [],
      delLatencies: [],
      errors,
      daemonAliveAfter: true,
      peakDaemonRssBytes: 60 * 2 ** 20,
      peakPluginRssBytes: 100 * 2 ** 20,
      peakDelegateRssBytes: 50 * 2 ** 20,
    });
    const r = (errors: string[]) =>
      results(
        { baseline: { 0: [10, 20] } },
        {
          burst: {
            'multinet-thick': burst(4000, errors),
            'multus-thick': burst(6000, []),
          } as unknown as BenchResults['burst'],
        },
      );
    assert.equal(goal(r([]), 'Burst').verdict, 'met');
    assert.equal(goal(r(['ADD: code 11']), 'Burst').verdict, 'not met');
  });
});
