/**
 * The cluster harness's own promises (docs/cluster.md, "Safety and cleanup"): one cluster per
 * machine, no start over leftovers it cannot account for, and nothing left after Ctrl-C or a
 * SIGKILL of the process that started it (the watchdog).
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { startCluster } from '../support/cluster.ts';
import { NODE_PRIVATE_PATHS } from '../support/cluster-node.ts';
import { readClusterState } from '../support/cluster-state.ts';
import { clusterLeftovers } from '../support/cluster-sweep.ts';
import { REPO_ROOT } from '../support/control-plane.ts';
import { missingClusterPrerequisite } from './cluster-prerequisites.ts';

const run = promisify(execFile);
const missing = await missingClusterPrerequisite();
const down = (): Promise<unknown> =>
  run(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'scripts/cluster.ts'), 'down'], {
    cwd: REPO_ROOT,
  });

/** Starts hold-cluster.ts; resolves once its cluster is up. */
async function holdCluster(): Promise<ReturnType<typeof spawn>> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, 'fixtures/hold-cluster.ts')],
    {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (c: Buffer) => c.toString().startsWith('up ') && resolve());
    child.once('exit', (code) => reject(new Error(`hold-cluster exited ${code}: ${err}`)));
  });
  return child;
}

async function waitClean(timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = await clusterLeftovers();
    if (left.length === 0 && !readClusterState()) return;
    if (Date.now() > deadline)
      assert.fail(`left behind: ${left.join('; ')}; state file ${!!readClusterState()}`);
    await sleep(250);
  }
}

describe('the cluster harness', { skip: missing, timeout: 300_000 }, () => {
  const hostPathsBefore = NODE_PRIVATE_PATHS.filter((p) => existsSync(p));

  it('refuses to start over leftovers, naming them; `npm run cluster -- down` removes them', async (t) => {
    t.after(() => run('ip', ['netns', 'del', 'mnc-stale']).catch(() => undefined));
    await run('ip', ['netns', 'add', 'mnc-stale']);
    await assert.rejects(
      startCluster({ multinetImage: false }),
      /leftovers of an earlier cluster: netns mnc-stale.*npm run cluster -- down/,
    );
    await down();
    assert.deepEqual(await clusterLeftovers(), []);
  });

  it('refuses a second cluster and a plain `down` while one runs; Ctrl-C of its owner removes everything', async () => {
    const child = await holdCluster();
    try {
      await assert.rejects(
        startCluster({ multinetImage: false }),
        /a test cluster already runs on this machine.*npm run cluster -- down/,
      );
      await assert.rejects(
        down(),
        /belongs to a running test/,
        "`down` does not take a running test's cluster",
      );
      assert.ok(readClusterState(), 'the cluster is still there');
      const exited = new Promise((r) => child.once('exit', (_code, signal) => r(signal)));
      child.kill('SIGINT');
      assert.equal(await exited, 'SIGINT', 'the owner dies of the signal after tearing down');
      await waitClean(5_000);
      assert.deepEqual(
        NODE_PRIVATE_PATHS.filter((p) => existsSync(p)),
        hostPathsBefore,
        'no mount point left on the host',
      );
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('SIGKILL of its owner: the watchdog removes everything', async () => {
    const child = await holdCluster();
    child.kill('SIGKILL');
    await waitClean(60_000);
    assert.deepEqual(
      NODE_PRIVATE_PATHS.filter((p) => existsSync(p)),
      hostPathsBefore,
      'no mount point left on the host',
    );
  });
});
