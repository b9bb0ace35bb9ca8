/**
 * The topology's last-resort cleanup: a test process stopped by Ctrl-C or SIGTERM (no 'exit'
 * event, no after-hooks) still removes the namespaces it made, and still dies of the signal.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { REPO_ROOT } from '../support/control-plane.ts';

const CHILD = `
import { NetnsTopology } from './test/support/netns.ts';
const topo = await NetnsTopology.create({ after() {} });
console.log(topo.node);
setInterval(() => {}, 1000);
`;

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  test(`a test process ended by ${sig} removes its namespaces`, async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const [line] = (await once(child.stdout, 'data')) as [Buffer];
    const node = line.toString().trim();
    assert.match(execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }), new RegExp(`^${node}\\b`, 'm'));
    child.kill(sig);
    const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
    const left = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    if (left.includes(node)) execFileSync('ip', ['netns', 'del', node]);
    assert.equal(signal, sig, `exit code ${code}`);
    assert.doesNotMatch(left, new RegExp(`^${node}\\b`, 'm'));
  });
}
