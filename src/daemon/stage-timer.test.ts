import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { emptyConfSource, FakeDelegateLists } from '../../test/support/fake-engine-deps.ts';
import { parseMultinetConfig } from '../config/multinet-config.ts';
import { silentLogger } from '../log/logger.ts';
import { ChildProcessRunner } from '../host/child-process-runner.ts';
import { FilePlanStore } from '../host/file-plan-store.ts';
import { ConcurrencyLimiter } from './concurrency-limiter.ts';
import { ContainerLocks } from './container-locks.ts';
import { handleCniRequest } from './handle-cni-request.ts';
import { STAGES, StageTimers, type StageTimer } from './stage-timer.ts';
import { timedPlanStore, timedPluginRunner } from './timed-ports.ts';

const REQUEST = {
  env: {
    CNI_COMMAND: 'ADD',
    CNI_CONTAINERID: 'c1',
    CNI_NETNS: '/run/netns/p1',
    CNI_IFNAME: 'eth0',
    CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=p1;K8S_POD_UID=u1',
    CNI_PATH: '/opt/cni/bin',
  },
  config: JSON.stringify({ cniVersion: '1.0.0', name: 'n', plugins: [{ type: 'multinet-shim' }] }),
};

describe('stage timers', () => {
  it('one ADD through the handler: every stage once, the plan write timed, the sum within the total', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'mn-stages-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const stages = new StageTimers();
    const config = parseMultinetConfig({
      clusterNetworkConfig: { cniVersion: '1.0.0', name: 'podnet', type: 'bridge' },
    }).engine;
    const seen: { command: string; timer: StageTimer }[] = [];
    let total = 0;
    const out = await handleCniRequest(REQUEST, {
      deps: {
        config,
        cluster: undefined,
        confs: emptyConfSource(true),
        lists: new FakeDelegateLists(),
        plans: timedPlanStore(new FilePlanStore(dir), stages),
        routes: { setDefaultRoute: async () => {} },
        log: silentLogger,
        sleep: (ms) => sleep(ms),
        now: () => Date.now(),
      },
      engineConfig: () => ({ ready: true, config }),
      limiter: new ConcurrencyLimiter(4),
      locks: new ContainerLocks(),
      log: silentLogger,
      stages,
      observe: (_c, _o, seconds) => (total = seconds * 1000),
      observeStages: (command, timer) => seen.push({ command, timer }),
    });
    assert.equal(out.json.exitCode, 0, out.json.stdout);
    assert.equal(seen.length, 1);
    const { command, timer } = seen[0]!;
    assert.equal(command, 'ADD');
    assert.deepEqual(Object.keys(timer.ms), [...STAGES]);
    assert.ok(timer.ms.planWrite > 0, 'the plan went through the timed store');
    assert.ok(timer.ms.plan > 0 && timer.ms.parse > 0);
    const sum = STAGES.reduce((s, k) => s + timer.ms[k], 0);
    assert.ok(sum <= total + 1e-6, `stages ${sum} ms add up to no more than the request's ${total} ms`);
    assert.equal(stages.forContainer('c1'), undefined, 'the timer is gone with its request');
  });

  it('plan is the engine time no port stage covered: overlapping stages count once', () => {
    const timer = new StageTimers().begin('c1', undefined);
    // A delegate from 0 to 50 ms, a result cache write overlapping it (40-60), the status (70-80).
    timer.delegate('bridge', 50, 0);
    timer.add('resultCache', 20, 40);
    timer.add('status', 10, 70);
    timer.engineDone(100);
    // Covered: 0-60 and 70-80, 70 ms; the stages alone sum to 80 ms.
    assert.equal(timer.ms.plan, 30);
    assert.deepEqual([timer.ms.delegates, timer.ms.resultCache, timer.ms.status], [50, 20, 10]);
  });

  it('a delegate process is timed into its own request only, by CNI_CONTAINERID', async () => {
    const stages = new StageTimers();
    const runner = timedPluginRunner(new ChildProcessRunner(), stages);
    const mine = stages.begin('c1', 'u1');
    const other = stages.begin('c2', undefined);
    const exec = (id: string) =>
      runner.exec({ path: '/bin/true', env: { CNI_CONTAINERID: id }, stdin: '', timeoutMs: 10_000 });
    assert.equal((await exec('c1')).exitCode, 0);
    assert.equal((await exec('unknown')).exitCode, 0);
    assert.equal(mine.delegateMs[0], 'true');
    assert.equal(mine.delegateMs.length, 2);
    assert.ok(mine.ms.delegates > 0);
    assert.equal(other.delegateMs.length, 0);
    assert.equal(stages.forPod('u1'), mine);
  });

  it('ending an older request leaves a newer timer of the same container in place', () => {
    const stages = new StageTimers();
    const first = stages.begin('c1', 'u1');
    const second = stages.begin('c1', 'u1');
    stages.end('c1', 'u1', first);
    assert.equal(stages.forContainer('c1'), second);
    assert.equal(stages.forPod('u1'), second);
    stages.end('c1', 'u1', second);
    assert.equal(stages.forContainer('c1'), undefined);
  });
});
