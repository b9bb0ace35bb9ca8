/**
 * The soak (`npm run soak`, outside CI): the reliability suite's storm and fuzz files at scale,
 * the same tests CI runs short, parameterised by counts. The storm runs `--cycles` ADD/DEL cycles
 * of 50 pods through the real daemon and shim with SIGKILL/SIGTERM restarts in its first half;
 * every fuzz target runs `--fuzz` cases. Writes test/soak/REPORT.md (or `--report FILE`) from the
 * figures the tests record, and exits non-zero when any of them failed.
 *
 *   npm run soak -- --cycles 10000 --fuzz 100000
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { format, resolveConfig } from 'prettier';
import { REPO_ROOT } from '../support/control-plane.ts';
import type { Figure } from '../support/fault-report.ts';

const { values } = parseArgs({
  options: {
    cycles: { type: 'string', default: '10000' },
    fuzz: { type: 'string', default: '100000' },
    seed: { type: 'string' },
    report: { type: 'string', default: join(REPO_ROOT, 'test/soak/REPORT.md') },
    'skip-storm': { type: 'boolean', default: false },
    'skip-fuzz': { type: 'boolean', default: false },
    /** One phase at a time (a busy machine: parallel lanes only slow each other down). */
    serial: { type: 'boolean', default: false },
  },
});
const cycles = Number(values.cycles);
const fuzz = Number(values.fuzz);
if (!(cycles > 0) || !(fuzz > 0)) throw new Error('--cycles and --fuzz take positive numbers');

const STORM = {
  name: 'storm',
  files: ['test/reliability/storm.test.ts'],
  env: {
    MULTINET_STORM_CYCLES: String(cycles),
    ...(values.seed ? { MULTINET_STORM_SEED: values.seed } : {}),
  },
};
const FUZZ_RECORDS = { name: 'fuzz: records', files: ['test/reliability/record-fuzz.test.ts'], env: {} };
const FUZZ_DAEMON = {
  name: 'fuzz: daemon requests',
  files: ['test/reliability/daemon-http.test.ts'],
  env: {},
};
const FUZZ_INPUT = { name: 'fuzz: input', files: ['test/reliability/input-fuzz.test.ts'], env: {} };
const storm = values['skip-storm'] ? [] : [STORM];
const fuzzes = values['skip-fuzz'] ? [] : [FUZZ_RECORDS, FUZZ_DAEMON, FUZZ_INPUT];
/** Lanes run side by side (the storm mostly waits on plugins; the fuzz mostly computes). */
const LANES = values.serial ? [[...storm, ...fuzzes]] : [storm, fuzzes.slice(2), fuzzes.slice(0, 2)];

interface Phase {
  name: string;
  files: string[];
  env: Record<string, string>;
  seconds: number;
  exitCode: number | null;
  figures: Figure[];
}

/** One test-runner process; its files record figures under its pid (test/support/fault-report.ts). */
function runPhase(name: string, files: string[], env: Record<string, string>): Promise<Phase> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', ...files],
      { cwd: REPO_ROOT, stdio: 'inherit', env: { ...process.env, ...env } },
    );
    child.on('error', reject);
    child.on('close', (exitCode) => {
      const path = join(tmpdir(), `multinet-reliability-${child.pid}.jsonl`);
      const figures = existsSync(path)
        ? readFileSync(path, 'utf8')
            .split('\n')
            .filter((l) => l.trim() !== '')
            .map((l) => JSON.parse(l) as Figure)
        : [];
      rmSync(path, { force: true });
      resolve({ name, files, env, seconds: Math.round((Date.now() - t0) / 1000), exitCode, figures });
    });
  });
}

const started = new Date();
const phases: Phase[] = [];
const pending = LANES.flat().map((p) => p.name);
await Promise.all(
  LANES.map(async (lane) => {
    for (const p of lane) {
      const env = p.name.startsWith('fuzz') ? { ...p.env, MULTINET_FUZZ_RUNS: String(fuzz) } : p.env;
      phases.push(await runPhase(p.name, p.files, env));
      pending.splice(pending.indexOf(p.name), 1);
      // Rewritten after every phase: a run stopped early still leaves what finished.
      await writeReport();
    }
  }),
);
const ok = await writeReport();
console.log(`soak: ${ok ? 'passed' : 'FAILED'}; report written to ${values.report}`);
process.exit(ok ? 0 : 1);

/** Writes the report of the phases finished so far; true when all ran and passed. */
async function writeReport(): Promise<boolean> {
  const all = phases.flatMap((p) => p.figures);
  const of = <K extends Figure['kind']>(kind: K) =>
    all.filter((f): f is Extract<Figure, { kind: K }> => f.kind === kind);
  const scenarios = of('scenario');
  const failed = scenarios.filter((s) => !s.passed);
  const unfinished = of('scenario-start').filter(
    (s) => !scenarios.some((e) => e.file === s.file && e.name === s.name),
  );
  const leaks = of('leaks').flatMap((l) => l.items.map((i) => `${l.scenario}: ${i}`));
  const fuzzTargets = new Map<string, number>();
  for (const f of of('fuzz')) fuzzTargets.set(f.target, (fuzzTargets.get(f.target) ?? 0) + f.cases);
  const storm = of('storm').at(-1) as Record<string, unknown> | undefined;
  const ok =
    pending.length === 0 &&
    phases.every((p) => p.exitCode === 0) &&
    failed.length === 0 &&
    unfinished.length === 0;

  const lines: string[] = [];
  const out = (s = '') => lines.push(s);
  const commit = (() => {
    try {
      return `commit ${execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim()}`;
    } catch {
      return 'commit unknown';
    }
  })();
  out('# Soak report');
  out();
  out(
    `Written by \`npm run soak -- --cycles ${cycles} --fuzz ${fuzz}\`, started ${started.toISOString()} ` +
      `(${cpus().length} CPUs shared with other work, Node ${process.version}, ${commit}, ` +
      `temporary files in ${tmpdir()}). ` +
      'The storm and fuzz files of test/reliability (CI runs them short), with the real daemon, ' +
      'shim and reference plugins in network namespaces; the daemon runs as it ships (hostPID: not PID 1).',
  );
  out();
  out(
    pending.length > 0
      ? `**Partial: ${pending.join(', ')} still running or not run when this was written.**`
      : `**Outcome: ${ok ? 'passed' : 'FAILED'}.**`,
  );
  out();
  out('| phase | files | seconds | exit |');
  out('| --- | --- | ---: | ---: |');
  for (const p of phases)
    out(`| ${p.name} | ${p.files.map((f) => `\`${f}\``).join(', ')} | ${p.seconds} | ${p.exitCode} |`);
  out();
  if (storm) {
    out('## Storm');
    out();
    out('| figure | value |');
    out('| --- | --- |');
    for (const [k, v] of Object.entries(storm)) if (k !== 'kind') out(`| ${k} | ${JSON.stringify(v)} |`);
    out();
  }
  out('## Fuzz cases per target');
  out();
  out('| target | cases |');
  out('| --- | ---: |');
  for (const [k, v] of fuzzTargets) out(`| ${k} | ${v.toLocaleString('en-US')} |`);
  out();
  out('## Scenarios, leaks, failures');
  out();
  out(`${scenarios.length - failed.length} of ${scenarios.length + unfinished.length} scenarios passed.`);
  out(`Leak checks: ${of('leaks').length}, items found: ${leaks.length}${leaks.length ? '' : ' (0 leaks)'}.`);
  for (const l of leaks.slice(0, 50)) out(`- leak: ${l}`);
  for (const f of failed) out(`- FAILED ${f.name}: ${(f.error ?? '').slice(0, 500).replaceAll('\n', ' ')}`);
  for (const u of unfinished) out(`- DID NOT FINISH ${u.name}`);
  for (const n of of('note')) out(`- note (${n.scenario}): ${n.text}`);
  out();
  const config = await resolveConfig(values.report);
  writeFileSync(values.report, await format(lines.join('\n'), { ...config, parser: 'markdown' }));
  return ok;
}
