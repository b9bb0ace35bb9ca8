import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../../test/support/control-plane.ts';
import { COMMAND_USAGE } from './command-usage.ts';
import { runCli } from './run-cli.ts';

/** The real command, as a user runs it (the stack traces came from its top-level catch). */
function multinet(args: string[]) {
  const env = { PATH: '/usr/local/bin:/usr/bin:/bin' };
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(REPO_ROOT, 'src/bin/multinet.ts'), ...args],
    {
      cwd: REPO_ROOT,
      env,
      encoding: 'utf8',
      input: '',
      timeout: 60_000,
    },
  );
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const COMMANDS = ['cni', 'daemon', 'webhook', 'validate', 'explain', 'install', 'demo', 'status', 'gc'];

describe('every command answers --help with its usage', () => {
  it('knows every command the main usage lists', async () => {
    let out = '';
    await runCli(['--help'], { stdout: (s) => (out += s), stderr: () => {}, env: {}, isTty: false });
    const listed = [...out.matchAll(/^ {2}([a-z]+)\b/gm)].map((m) => m[1]);
    assert.deepEqual([...new Set(listed)].sort(), [...COMMANDS].sort());
    assert.deepEqual(Object.keys(COMMAND_USAGE).sort(), [...COMMANDS].sort());
  });

  for (const cmd of COMMANDS)
    for (const flag of ['--help', '-h'])
      it(`multinet ${cmd} ${flag}`, () => {
        const r = multinet([cmd, flag]);
        assert.equal(r.code, 0, r.stderr);
        assert.ok(r.stdout.startsWith(`usage: multinet ${cmd}`), r.stdout);
        assert.equal(r.stderr, '');
      });

  it('an unknown option is a usage error (exit 2), not a stack trace', () => {
    for (const cmd of ['install', 'status', 'explain', 'demo', 'gc', 'webhook']) {
      const r = multinet([cmd, '--no-such-option']);
      assert.equal(r.code, 2, `${cmd}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`^multinet ${cmd}: .*--no-such-option`));
      assert.match(r.stderr, new RegExp(`usage: multinet ${cmd}`));
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    }
  });
});
