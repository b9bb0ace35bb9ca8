// `npm run bench -- --quick` end to end: the smoke run CI makes of the benchmark harness. It
// checks that the run completes, that every implementation and scenario produced figures, and
// that the report and its charts were written from them. No timing is asserted: the figures
// belong in the report, not in a pass/fail decision on a shared machine.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { BenchResults } from '../../bench/results.ts';
import { REPO_ROOT } from '../support/control-plane.ts';

test('npm run bench -- --quick completes and writes a valid report', { timeout: 600_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'mn-bench-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  // The bench builds every plugin's and daemon's environment from scratch (no NODE_EXTRA_CA_CERTS,
  // as under containerd); its own process keeps ours, which npm needs to fetch Bun and postject.
  const env = { ...process.env };
  // scripts/test.sh has built dist/ and tools/bin already; the bench checks both are there.
  const run = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      'bench/run.ts',
      '--quick',
      '--no-build',
      '--out',
      join(dir, 'results'),
      '--report',
      join(dir, 'REPORT.md'),
    ],
    { cwd: REPO_ROOT, env, encoding: 'utf8', timeout: 590_000 },
  );
  assert.equal(run.status, 0, `bench exited ${run.status}\n${run.stderr.slice(-4000)}`);

  const files = await readdir(join(dir, 'results'));
  assert.equal(files.length, 1);
  assert.match(files[0]!, /^\d{4}-\d{2}-\d{2}-quick\.json$/);
  const r = JSON.parse(await readFile(join(dir, 'results', files[0]!), 'utf8')) as BenchResults;
  assert.equal(r.schema, 1);
  assert.equal(r.quick, true);
  assert.equal(r.environment.nodeExtraCaCertsPassed, false);
  assert.deepEqual(
    r.implementations.map((i) => [i.id, i.available, i.why]),
    ['baseline', 'multinet-thin', 'multinet-thick', 'multus-thin', 'multus-thick'].map((id) => [
      id,
      true,
      undefined,
    ]),
  );
  for (const impl of r.implementations) {
    for (const n of r.sequential.networkCounts) {
      const s = r.sequential.runs[impl.id]?.[String(n)];
      assert.ok(s, `sequential ${impl.id} n=${n}`);
      assert.equal(s.add.length + s.del.length + s.errors.length, 2 * r.sequential.iterations);
      assert.ok(s.add.length > 0, `${impl.id} n=${n}: no successful ADD: ${s.errors[0]}`);
      // Interleaved rounds: every round holds its share of the samples.
      assert.equal(s.addRounds?.length, r.rounds, `${impl.id} n=${n}: one sample list per round`);
    }
    const gc = r.sequential.runs[impl.id]?.['3'];
    assert.equal(
      (gc?.gcDel?.length ?? 0) + (gc?.gcErrors?.length ?? 0),
      2 * r.sequential.iterations,
      `${impl.id}: two sandbox-GC DELs per pod`,
    );
    const b = r.burst[impl.id];
    assert.ok(b, `burst ${impl.id}`);
    // Bursts in rounds, implementations interleaved: every round's pods are counted.
    assert.equal(b.rounds?.length, r.rounds, `burst ${impl.id}: one burst per round`);
    assert.equal(
      b.addLatencies.length + b.errors.filter((e) => e.startsWith('ADD')).length,
      b.pods * (r.rounds ?? 1),
    );
  }
  // Node's process warnings in multinet's daemon log (issue 15: MaxListenersExceededWarning).
  assert.deepEqual(r.burst['multinet-thick']?.daemonWarnings ?? [], [], 'the daemon printed no warning');
  assert.ok((r.rounds ?? 0) >= 3, 'at least 3 rounds');
  for (const command of ['ADD', 'DEL', 'GC DEL']) {
    const rounds = r.stages?.byCount['3']?.[command] ?? [];
    assert.equal(rounds.length, r.rounds, `multinet thick ${command} stage timings in every round`);
    for (const x of rounds)
      assert.ok(x.requests > 0 && x.daemonMs > 0 && x.wallMs > x.daemonMs, JSON.stringify(x));
  }
  assert.ok(
    (r.stages?.byCount['3']?.['ADD']?.[0]?.stagesMs['delegates'] ?? 0) > 0,
    'ADD spends time in delegates',
  );
  const perDelegate = r.stages?.byCount['3']?.['ADD']?.[0]?.delegatesMs ?? {};
  assert.ok(
    Object.values(perDelegate).reduce((n, d) => n + d.perRequest, 0) >= 4,
    `eth0 and 3 networks: a delegate process each, by binary: ${JSON.stringify(perDelegate)}`,
  );
  assert.ok(Object.keys(r.loadPeak ?? {}).length > 0, 'load peaks per phase');
  for (const id of ['multinet-thin', 'multinet-thick', 'multus-thin', 'multus-thick'])
    assert.ok(r.api[id] && r.api[id].coldAdd.total > 0, `API requests counted for ${id}`);
  for (const id of ['multinet-thick', 'multus-thick'] as const) {
    assert.ok((r.memory[id]?.idleRssBytes ?? 0) > 0, `idle RSS of ${id}`);
    assert.ok((r.memory[id]?.loadedRssBytes ?? 0) > 0, `loaded RSS of ${id}`);
  }
  for (const id of ['multinet-thin', 'multinet-thick'] as const)
    assert.ok(r.parallel.runs[id]?.['8'], `parallelAttach figures for ${id}`);
  const shims = new Map(r.shim.candidates.map((c) => [c.id, c]));
  for (const id of ['multus-go', 'node-bundle'])
    assert.ok(
      (shims.get(id)?.addStub.length ?? 0) > 0,
      `shim candidate ${id} measured: ${shims.get(id)?.errors[0]}`,
    );
  for (const c of r.shim.candidates) assert.ok(c.available || c.why, `${c.id}: unavailable without a reason`);

  const report = await readFile(join(dir, 'REPORT.md'), 'utf8');
  for (const heading of [
    '## Goals',
    '## 1. Sequential',
    '## 1a. Scenario 1 across',
    '### Sandbox-GC DEL',
    "## 1b. Where multinet thick's time goes",
    '## 2. Burst',
    '## 3. API requests',
    '## 4. Daemon memory',
    '## 5. Shim',
    '## 6. parallelAttach',
  ])
    assert.ok(report.includes(heading), `report has "${heading}"`);
  assert.doesNotMatch(report, /NaN|undefined/);
  const charts = await readdir(join(dir, 'charts'));
  assert.deepEqual(charts.sort(), [
    'burst-completion.svg',
    'latency-vs-networks.svg',
    'memory.svg',
    'overhead-vs-networks.svg',
    'shim.svg',
    'stages.svg',
  ]);
  for (const c of charts) {
    const svg = await readFile(join(dir, 'charts', c), 'utf8');
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]*>[\s\S]*<\/svg>\n$/);
    assert.doesNotMatch(svg, /NaN|undefined/, c);
    assert.ok(report.includes(`](charts/${c})`), `report links ${c}`);
  }
});
