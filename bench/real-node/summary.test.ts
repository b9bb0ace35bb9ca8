import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { realNodeGoals, type SummaryRow } from './summary.ts';

const at = (median: number) => ({ median, min: median, max: median });
const row = (impl: string, networks: number, ready: number, sandbox: number, cpu?: number): SummaryRow => ({
  impl,
  networks,
  rounds: 2,
  readyMs: at(ready),
  sandboxMs: at(sandbox),
  allReadyMs: at(ready),
  sandboxFailures: 0,
  ...(cpu === undefined ? {} : { daemonCpuAddS: at(cpu), daemonPeakRssMiB: at(50) }),
  loadedRounds: 0,
});

describe('realNodeGoals', () => {
  it('judges each goal as ours <= limit x Multus, per network count', () => {
    const goals = realNodeGoals([
      row('none', 0, 1000, 700),
      row('multinet', 3, 1800, 1000, 0.5),
      row('multus', 3, 2000, 1300, 0.4),
    ]);
    const by = (g: string) => goals.find((x) => x.goal.startsWith(g))!;
    assert.deepEqual(by('pod created'), {
      networks: 3,
      goal: 'pod created → Ready / Multus <= 0.9',
      verdict: 'met',
      figure: '0.90 (1800.00 vs 2000.00 ms)',
    });
    // Over the no-meta-plugin rounds: 300 vs 600 ms, exactly 0.5.
    assert.equal(by('RunPodSandbox').verdict, 'met');
    assert.equal(by('daemon CPU').verdict, 'not met');
  });

  it('never calls a goal met against a Multus figure of 0 or below', () => {
    // Multus's RunPodSandbox came out 35 ms under the rounds without a meta-plugin (noise).
    const goals = realNodeGoals([
      row('none', 0, 1000, 735),
      row('multinet', 0, 1500, 1454, 0.3),
      row('multus', 0, 1400, 700, 0.2),
    ]);
    const sandbox = goals.find((x) => x.goal.startsWith('RunPodSandbox'))!;
    assert.equal(sandbox.verdict, 'not met');
    assert.equal(sandbox.figure, '719.00 vs -35.00 ms');
  });
});
