/**
 * Runs last (files run in name order, one at a time): turns the figures the other files of this
 * run recorded into a printed summary and a report. A test run never rewrites tracked files: the
 * report goes to a temporary file (its path is printed) unless MULTINET_RELIABILITY_REPORT names
 * where to write it, which `npm run reliability:report` does to regenerate the committed
 * test/reliability/REPORT.md deliberately.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { format, resolveConfig } from 'prettier';
import { REPO_ROOT } from '../support/control-plane.ts';
import { readFigures, removeFigures, type Figure } from '../support/fault-report.ts';

type Of<K extends Figure['kind']> = Extract<Figure, { kind: K }>;

test('reliability report: figures of this run, written to a report file', async (t) => {
  const figures = readFigures();
  const of = <K extends Figure['kind']>(kind: K) => figures.filter((f): f is Of<K> => f.kind === kind);
  const started = of('scenario-start');
  const ended = of('scenario');
  if (started.length === 0) return t.skip('no reliability scenario ran in this run');
  const passed = ended.filter((s) => s.passed);
  const unfinished = started.filter((s) => !ended.some((e) => e.file === s.file && e.name === s.name));
  const failed = [
    ...ended.filter((s) => !s.passed),
    ...unfinished.map((s) => ({ ...s, passed: false, ms: 0, error: 'did not finish' })),
  ];
  const fuzz = new Map<string, number>();
  for (const f of of('fuzz')) fuzz.set(f.target, (fuzz.get(f.target) ?? 0) + f.cases);
  const fuzzTotal = [...fuzz.values()].reduce((a, b) => a + b, 0);
  const leakChecks = of('leaks');
  const leaks = leakChecks.flatMap((l) => l.items.map((i) => `${l.scenario}: ${i}`));
  const storm = of('storm').at(-1) as Record<string, unknown> | undefined;
  const seconds = Math.round(ended.reduce((a, s) => a + s.ms, 0) / 1000);

  const lines: string[] = [];
  const out = (s = '') => lines.push(s);
  out('# Reliability and security report');
  out();
  out(
    `Written by \`npm run reliability:report\` on ${new Date().toISOString().slice(0, 10)} ` +
      `(${cpus().length} CPUs, Node ${process.version}); the scenarios took ${seconds} s. Every fault ` +
      'scenario uses the real daemon and shim or thin plugin, the reference CNI plugins in real network ' +
      'namespaces and, where it matters, a real kube-apiserver; FAKE plugins (test/support/fake-plugins) ' +
      'only make a real plugin hang, crash, fail or print garbage on demand.',
  );
  out();
  out('## Summary');
  out();
  out('| figure | value |');
  out('|---|---|');
  out(`| scenarios run | ${started.length} |`);
  out(`| scenarios passed | ${passed.length} |`);
  out(`| fuzz cases tried | ${fuzzTotal} (${fuzz.size} targets) |`);
  out(`| storm ADD/DEL cycles | ${storm ? String(storm['cycles']) : 'not run'} |`);
  out(`| leak checks | ${leakChecks.length} |`);
  out(`| leaks found | ${leaks.length} |`);
  out();
  if (storm) {
    out('## Storm');
    out();
    const restarts = storm['restarts'] as { kill: number; term: number };
    const fds = storm['fdsIdle'] as number[];
    const rss = storm['rssIdleMiB'] as number[];
    out(
      `${String(storm['pods'])} pods, ${String(storm['seconds'])} s (seed ${String(storm['seed'])}), two networks per pod ` +
        '(bridge and macvlan, host-local addresses), the test playing the kubelet (a failed ADD is followed by DEL ' +
        'and a retry, a failed DEL is retried).',
    );
    out();
    out('| figure | value |');
    out('|---|---|');
    out(
      `| ADD/DEL cycles completed | ${String(storm['cycles'])} (${String(storm['cyclesPhaseA'])} with restarts, ${String(storm['cyclesPhaseB'])} without) |`,
    );
    out(`| daemon restarts | ${restarts.kill} SIGKILL, ${restarts.term} SIGTERM |`);
    out(
      `| ADD attempts / answered "try again" (11) | ${String(storm['addAttempts'])} / ${JSON.stringify(storm['addFailures'])} |`,
    );
    out(`| DEL attempts / retried | ${String(storm['delAttempts'])} / ${String(storm['delRetries'])} |`);
    out(`| daemon descriptors at the idle points | ${fds.join(' → ')} |`);
    out(
      `| daemon RSS at the idle points, max | ${rss.join(' → ')} MiB, max ${String(storm['rssMaxMiB'])} MiB |`,
    );
    out(`| leaked interfaces, addresses, cache files, processes | ${String(storm['leaks'])} |`);
    out();
  }
  out('## Fuzz targets');
  out();
  out('| target | cases |');
  out('|---|---|');
  for (const [target, cases] of [...fuzz.entries()].sort()) out(`| ${target} | ${cases} |`);
  out();
  out('## Scenarios');
  out();
  out('| file | scenario | result | s |');
  out('|---|---|---|---|');
  for (const s of [...ended, ...unfinished.map((u) => ({ ...u, passed: false, ms: 0 }))])
    out(
      `| ${s.file} | ${s.name.replaceAll('|', '\\|')} | ${s.passed ? 'passed' : 'FAILED'} | ${(s.ms / 1000).toFixed(1)} |`,
    );
  out();
  const notes = of('note');
  if (notes.length > 0) {
    out('## Observations');
    out();
    for (const n of notes) out(`- ${n.scenario}: ${n.text}`);
    out();
  }
  if (failed.length > 0 || leaks.length > 0) {
    out('## Problems');
    out();
    for (const f of failed)
      out(`- FAILED ${f.file}: ${f.name}: ${'error' in f ? String(f.error).split('\n')[0] : ''}`);
    for (const l of leaks) out(`- LEAK ${l}`);
    out();
  }
  // Formatted as the repository's prettier check expects (tables aligned).
  const chosen = process.env['MULTINET_RELIABILITY_REPORT'];
  const path = chosen
    ? resolve(REPO_ROOT, chosen)
    : join(tmpdir(), `multinet-reliability-report-${process.pid}.md`);
  const style = await resolveConfig(join(REPO_ROOT, 'test/reliability/REPORT.md'));
  writeFileSync(path, await format(lines.join('\n'), { ...style, parser: 'markdown' }));
  removeFigures();
  console.log(`reliability report written to ${path}`);
  t.diagnostic(`report: ${path}`);

  const summary = [
    `reliability: ${passed.length}/${started.length} scenarios passed`,
    `${fuzzTotal} fuzz cases over ${fuzz.size} targets`,
    `storm ${storm ? `${String(storm['cycles'])} ADD/DEL cycles` : 'not run'}`,
    `${leaks.length} leaks in ${leakChecks.length} checks`,
  ].join(', ');
  console.log(summary);
  t.diagnostic(summary);
  assert.deepEqual(leaks, [], 'leaks found');
});
