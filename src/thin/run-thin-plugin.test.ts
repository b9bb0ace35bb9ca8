import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emptyConfSource, FakeDelegateLists, MemoryPlanStore } from '../../test/support/fake-engine-deps.ts';
import { ContainerLockTimeout } from '../host/file-container-lock.ts';
import { silentLogger } from '../log/logger.ts';
import type { MultinetConfig } from '../config/multinet-config.ts';
import { runThinPlugin, type ThinDeps } from './run-thin-plugin.ts';

const env = {
  CNI_COMMAND: 'ADD',
  CNI_CONTAINERID: 'c1',
  CNI_NETNS: '/run/netns/p1',
  CNI_IFNAME: 'eth0',
  CNI_ARGS: 'K8S_POD_NAMESPACE=ns1;K8S_POD_NAME=pod-a',
  CNI_PATH: '/usr/lib/cni',
};
const stdin = JSON.stringify({
  cniVersion: '1.0.0',
  name: 'multinet-cni-network',
  type: 'multinet',
  clusterNetworkConfig: { cniVersion: '1.0.0', name: 'podnet', type: 'bridge' },
});

/** Thin deps whose container lock fails as told; nothing else is reached. */
function depsLockingWith(err: Error) {
  const lists = new FakeDelegateLists();
  return {
    lists,
    build: async (config: MultinetConfig): Promise<ThinDeps> => ({
      config: config.engine,
      cluster: undefined,
      confs: emptyConfSource(),
      lists,
      plans: new MemoryPlanStore(),
      routes: { setDefaultRoute: async () => {} },
      log: silentLogger,
      sleep: async () => {},
      now: () => 0,
      lockContainer: () => Promise.reject(err),
    }),
  };
}

describe('thin plugin: its config', () => {
  it('warns about each unknown key of its plugin object, by name, and runs the call all the same', async () => {
    const lists = new FakeDelegateLists();
    const warnings: { fields: Record<string, unknown>; msg: string }[] = [];
    const log = {
      ...silentLogger,
      warn: (fields: Record<string, unknown>, msg: string) => void warnings.push({ fields, msg }),
    };
    const conf = JSON.stringify({
      ...JSON.parse(stdin),
      clusterNetwrk: 'x',
      capabilities: { portMappings: true },
    });
    const out = await runThinPlugin(env, conf, async (config) => ({
      config: config.engine,
      cluster: undefined,
      confs: emptyConfSource(),
      lists,
      plans: new MemoryPlanStore(),
      routes: { setDefaultRoute: async () => {} },
      log,
      sleep: async () => {},
      now: () => 0,
    }));
    assert.equal(out.exitCode, 0, out.stdout);
    assert.deepEqual(lists.lines(), ['ADD podnet eth0']);
    // The CNI keys (type, name, cniVersion, capabilities) are no options but no strangers either.
    assert.deepEqual(
      warnings.map((w) => [w.fields['key'], w.msg]),
      [
        [
          'clusterNetwrk',
          'multinet plugin object: unknown key "clusterNetwrk" ignored (a typo, or an option of another multinet version?)',
        ],
      ],
    );
  });
});

describe('thin plugin: the container lock', () => {
  it('a lock whose wait ran out answers code 11 (try again), naming the pod', async () => {
    const { lists, build } = depsLockingWith(new ContainerLockTimeout('c1', 1000));
    const out = await runThinPlugin(env, stdin, build);
    assert.equal(out.exitCode, 1);
    const answer = JSON.parse(out.stdout) as { code: number; msg: string; details: string };
    assert.equal(answer.code, 11, out.stdout);
    assert.match(answer.details, /pod ns1\/pod-a: .*still runs after 1000 ms; try again later/);
    assert.equal(lists.calls.length, 0, 'no delegate ran without the lock');
  });

  it('any other lock failure is an I/O error (code 5), not a retry', async () => {
    const { build } = depsLockingWith(new Error('EACCES: permission denied'));
    const out = await runThinPlugin(env, stdin, build);
    const answer = JSON.parse(out.stdout) as { code: number; details: string };
    assert.equal(answer.code, 5, out.stdout);
    assert.match(answer.details, /cannot lock the container in the cache directory: EACCES/);
  });
});
