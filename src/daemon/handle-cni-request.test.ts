import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { EngineOptions } from '../config/multinet-config.ts';
import { parseMultinetConfig } from '../config/multinet-config.ts';
import type { EngineDeps } from '../engine/engine-deps.ts';
import { emptyConfSource, FakeDelegateLists, MemoryPlanStore } from '../../test/support/fake-engine-deps.ts';
import { silentLogger } from '../log/logger.ts';
import { ConcurrencyLimiter } from './concurrency-limiter.ts';
import { ContainerLocks } from './container-locks.ts';
import type { CniHandlerContext, EngineConfigState } from './handle-cni-request.ts';
import { handleCniRequest, parseDaemonCniRequest } from './handle-cni-request.ts';
import type { CniError } from '../cni/cni-error.ts';

const fakeConfs = emptyConfSource(true);

const PRIMARY = { cniVersion: '1.0.0', name: 'podnet', type: 'bridge' };

function setup(opts: { max?: number; ready?: boolean } = {}) {
  const lists = new FakeDelegateLists();
  const config: EngineOptions = parseMultinetConfig({ clusterNetworkConfig: PRIMARY }).engine;
  const deps: EngineDeps = {
    config,
    cluster: undefined,
    confs: fakeConfs,
    lists,
    plans: new MemoryPlanStore(),
    routes: { setDefaultRoute: async () => {} },
    log: silentLogger,
    sleep: (ms) => sleep(ms),
    now: () => Date.now(),
  };
  const observed: string[] = [];
  let state: EngineConfigState =
    opts.ready === false
      ? { ready: false, config, reason: 'no primary network config in /etc/cni/net.d' }
      : { ready: true, config };
  const ctx: CniHandlerContext = {
    deps,
    engineConfig: () => state,
    limiter: new ConcurrencyLimiter(opts.max ?? 8),
    locks: new ContainerLocks(),
    log: silentLogger,
    observe: (c, o) => observed.push(`${c} ${o}`),
  };
  return { ctx, lists, observed, setState: (s: EngineConfigState) => (state = s) };
}

function body(command: string, extra: Record<string, string> = {}, config: Record<string, unknown> = {}) {
  return {
    env: {
      CNI_COMMAND: command,
      CNI_CONTAINERID: 'c1',
      CNI_NETNS: '/run/netns/p1',
      CNI_IFNAME: 'eth0',
      CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=p1',
      CNI_PATH: '/opt/cni/bin',
      ...extra,
    },
    config: JSON.stringify({
      cniVersion: '0.4.0',
      name: 'multinet-cni-network',
      plugins: [{ type: 'multinet-shim', ...config }],
    }),
  };
}

describe('handleCniRequest', () => {
  it('runs ADD through the engine and answers the result in the caller version', async () => {
    const { ctx, lists, observed } = setup();
    const out = await handleCniRequest(body('ADD'), ctx);
    assert.equal(out.status, 200);
    assert.equal(out.json.exitCode, 0);
    const result = JSON.parse(out.json.stdout) as { cniVersion: string; ips: unknown[] };
    assert.equal(result.cniVersion, '0.4.0');
    assert.equal(result.ips.length, 1);
    assert.deepEqual(
      lists.calls.map((c) => `${c.command} ${c.network}`),
      ['ADD podnet', 'ADD done podnet'],
    );
    assert.deepEqual(observed, ['ADD success']);
  });

  it('takes runtimeConfig from the call but the default network from the daemon', async () => {
    const { ctx, lists } = setup();
    const out = await handleCniRequest(
      body(
        'ADD',
        {},
        {
          runtimeConfig: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }] },
          clusterNetworkConfig: { cniVersion: '1.0.0', name: 'stale', type: 'macvlan' },
        },
      ),
      ctx,
    );
    assert.equal(out.json.exitCode, 0, out.json.stdout);
    assert.equal(lists.calls[0]?.network, 'podnet');
    assert.deepEqual(lists.calls[0]?.capabilityArgs, {
      portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }],
    });
  });

  it('answers code 11 at once when saturated, without running anything', async () => {
    const { ctx, lists, observed } = setup({ max: 1 });
    const held = ctx.limiter.tryAcquire();
    const out = await handleCniRequest(body('ADD'), ctx);
    held?.();
    assert.equal(out.status, 503);
    assert.equal(out.json.exitCode, 1);
    const err = JSON.parse(out.json.stdout) as { code: number; details: string };
    assert.equal(err.code, 11);
    assert.match(err.details, /maxConcurrentRequests/);
    assert.equal(lists.calls.length, 0);
    assert.deepEqual(observed, ['ADD rejected']);
  });

  it('serialises requests for the same container', async () => {
    const { ctx, lists } = setup();
    lists.addDelayMs = 30;
    const [add, del] = await Promise.all([
      handleCniRequest(body('ADD'), ctx),
      handleCniRequest(body('DEL'), ctx),
    ]);
    assert.equal(add.json.exitCode, 0);
    assert.equal(del.json.exitCode, 0, del.json.stdout);
    assert.deepEqual(
      lists.calls.map((c) => c.command),
      ['ADD', 'ADD done', 'DEL'],
    );
  });

  it('runs different containers in parallel', async () => {
    const { ctx, lists } = setup();
    lists.addDelayMs = 30;
    await Promise.all([
      handleCniRequest(body('ADD'), ctx),
      handleCniRequest(body('ADD', { CNI_CONTAINERID: 'c2' }), ctx),
    ]);
    assert.deepEqual(
      lists.calls.map((c) => c.command),
      ['ADD', 'ADD', 'ADD done', 'ADD done'],
    );
  });

  it('without a default network: ADD 11, STATUS 50, DEL still served', async () => {
    const { ctx, lists } = setup({ ready: false });
    const add = await handleCniRequest(body('ADD'), ctx);
    const addErr = JSON.parse(add.json.stdout) as { code: number; details: string };
    assert.equal(addErr.code, 11);
    assert.match(addErr.details, /no primary network config/);
    assert.equal(lists.calls.length, 0);

    const status = await handleCniRequest(
      {
        env: { CNI_COMMAND: 'STATUS', CNI_PATH: '/opt/cni/bin' },
        config: JSON.stringify({ cniVersion: '1.1.0', name: 'm', plugins: [{ type: 'multinet-shim' }] }),
      },
      ctx,
    );
    assert.equal((JSON.parse(status.json.stdout) as { code: number }).code, 50);

    const del = await handleCniRequest(body('DEL'), ctx);
    assert.equal(del.json.exitCode, 0, del.json.stdout);
  });

  it('answers VERSION even when saturated, and refuses malformed bodies', async () => {
    const { ctx } = setup({ max: 1 });
    ctx.limiter.tryAcquire();
    const v = await handleCniRequest(
      { env: { CNI_COMMAND: 'VERSION' }, config: '{"cniVersion":"0.4.0"}' },
      ctx,
    );
    assert.equal(v.json.exitCode, 0);
    assert.equal((JSON.parse(v.json.stdout) as { cniVersion: string }).cniVersion, '0.4.0');
    const bad = await handleCniRequest({ env: 'x', config: '{}' }, ctx);
    assert.equal(bad.status, 400);
    assert.equal((JSON.parse(bad.json.stdout) as { code: number }).code, 4);
  });

  it('checks the wire body: config 6, env and its CNI_* variables 4; other variables stay in the shim', () => {
    const code = (body: unknown) => {
      try {
        parseDaemonCniRequest(body);
        return 0;
      } catch (err) {
        return (err as CniError).code;
      }
    };
    assert.equal(code(null), 6);
    assert.equal(code([]), 6);
    assert.equal(code({ env: {}, config: 1 }), 6);
    assert.equal(code({ env: [], config: '{}' }), 4);
    assert.equal(code({ config: '{}' }), 4);
    assert.throws(
      () => parseDaemonCniRequest({ env: { CNI_NETNS: 5 }, config: '{}' }),
      /daemon request: env CNI_NETNS must be a string/,
    );
    assert.deepEqual(
      parseDaemonCniRequest({ env: { CNI_COMMAND: 'ADD', SECRET: 'x', OTHER: 1 }, config: '{}' }),
      { env: { CNI_COMMAND: 'ADD' }, config: '{}' },
    );
  });

  it('reports protocol errors like a plugin: missing variables → code 4', async () => {
    const { ctx } = setup();
    const out = await handleCniRequest(body('ADD', { CNI_NETNS: '' }), ctx);
    assert.equal(out.status, 200);
    const err = JSON.parse(out.json.stdout) as { code: number; msg: string };
    assert.equal(err.code, 4);
    assert.match(err.msg, /CNI_NETNS/);
  });

  it('turns requests away with code 11 while draining', async () => {
    const { ctx } = setup();
    ctx.draining = () => true;
    const out = await handleCniRequest(body('ADD'), ctx);
    assert.equal(out.status, 503);
    assert.equal((JSON.parse(out.json.stdout) as { code: number }).code, 11);
  });
});
