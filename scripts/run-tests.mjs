// Runs node's test runner over every *.test.ts under the given directories.
// Node 20's --test does not expand globs, so the file list is built here. With
// TEST_SUMMARY_FILE set, a TAP copy of the run is parsed and "pass fail skipped" appended there,
// so scripts/test.sh can print one closing line for all suites.
import { mkdtempSync, readdirSync, readFileSync, appendFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function collect(dir, out) {
  for (const entry of readdirSync(dir)) {
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) collect(p, out);
    else if (entry.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const args = process.argv.slice(2);
const flags = args.filter((a) => a.startsWith('--'));
const dirs = args.filter((a) => !a.startsWith('--'));
// Directories are searched for *.test.ts; a file argument is taken as it is.
const files = dirs.flatMap((d) => (statSync(d).isDirectory() ? collect(d, []) : [d])).sort();
if (files.length === 0) {
  console.error(`no test files under ${dirs.join(', ')}`);
  process.exit(1);
}
const concurrency = flags.some((f) => f.startsWith('--test-concurrency')) ? [] : ['--test-concurrency=1'];
const summaryFile = process.env.TEST_SUMMARY_FILE;
const tmp = summaryFile ? mkdtempSync(join(tmpdir(), 'mn-tap-')) : undefined;
const reporters = tmp
  ? [
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      '--test-reporter=tap',
      `--test-reporter-destination=${join(tmp, 'run.tap')}`,
    ]
  : [];
const res = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', ...concurrency, ...reporters, ...flags, ...files],
  {
    stdio: 'inherit',
  },
);
if (tmp) {
  const tap = readFileSync(join(tmp, 'run.tap'), 'utf8');
  const count = (k) => Number(new RegExp(`^# ${k} (\\d+)$`, 'm').exec(tap)?.[1] ?? 0);
  appendFileSync(summaryFile, `${count('pass')} ${count('fail') + count('cancelled')} ${count('skipped')}\n`);
  rmSync(tmp, { recursive: true, force: true });
}
process.exit(res.status ?? 1);
