import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { emptyConfSource, FakeDelegateLists, MemoryPlanStore } from '../../test/support/fake-engine-deps.ts';
import { FakeClusterView } from '../../test/support/memory-cluster-view.ts';
import type { NetworkConfigList } from '../cni/network-config.ts';
import { parseNetworkConfig } from '../cni/network-config.ts';
import type { RuntimeConf } from '../cni/network-list-runner.ts';
import type { CniResult } from '../cni/result.ts';
import { parseDaemonConfig } from '../config/daemon-config.ts';
import type { DefaultNetworkState } from '../config/primary-config.ts';
import { silentLogger, type Logger } from '../log/logger.ts';
import { runDaemon } from './daemon.ts';
import type { DaemonCluster, DaemonDeps, DefaultNetworkSource, WatchCache } from './daemon-deps.ts';
import { SocketServer } from './socket-server.ts';

const PRIMARY = { cniVersion: '1.0.0', name: 'podnet', type: 'bridge' };

/** FAKE cluster adapter: a memory view, one watch cache whose sync the test decides. */
class FakeDaemonCluster implements DaemonCluster {
  readonly view = new FakeClusterView();
  readonly cache: WatchCache & { synced: boolean } = {
    resource: 'pods',
    synced: true,
    disabled: false,
    size: 0,
  };
  readonly caches = [this.cache];
  events: string[] = [];

  async start(signal: AbortSignal): Promise<{ stopped: Promise<unknown> }> {
    this.events.push('start');
    const stopped = new Promise<void>((resolve) =>
      signal.addEventListener('abort', () => resolve(void this.events.push('stopped')), { once: true }),
    );
    return { stopped };
  }
  async flush(): Promise<void> {
    this.events.push('flush');
  }
  close(): void {
    this.events.push('close');
  }
}

/** FAKE automatic configuration: the default network is there or not, as the test says. */
class FakeDefaultNetworkSource implements DefaultNetworkSource {
  current: DefaultNetworkState = { ready: false, reason: 'no primary network config in /etc/cni/net.d' };
  async rescan(): Promise<void> {}
  start(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  }
  state(): DefaultNetworkState {
    return this.current;
  }
}

async function start(
  t: TestContext,
  opts: {
    autoConfig?: DefaultNetworkSource;
    daemon?: Record<string, unknown>;
    log?: Logger;
    lists?: FakeDelegateLists;
  } = {},
) {
  const dir = await mkdtemp(join(tmpdir(), 'mn-daemon-unit-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const socketPath = join(dir, 'run', 'multinet.sock');
  const config = parseDaemonConfig(
    JSON.stringify({
      socketPath,
      cacheDir: join(dir, 'cache'),
      metricsAddress: '',
      shutdownTimeoutSeconds: 5,
      ...(opts.autoConfig ? { autoConfig: true } : { clusterNetworkConfig: PRIMARY }),
      ...opts.daemon,
    }),
  );
  const cluster = new FakeDaemonCluster();
  cluster.view.addPod({ namespace: 'default', name: 'p1', uid: 'uid-1', annotations: {} });
  const lists = opts.lists ?? new FakeDelegateLists();
  const engineClosed: string[] = [];
  const deps: DaemonDeps = {
    config,
    log: opts.log ?? silentLogger,
    cluster: () => cluster,
    ...(opts.autoConfig ? { autoConfig: opts.autoConfig } : {}),
    buildEngineDeps: (engine, view) => ({
      config: engine,
      cluster: view,
      confs: emptyConfSource(),
      lists,
      plans: new MemoryPlanStore(),
      routes: { setDefaultRoute: async () => {} },
      log: silentLogger,
      sleep: async () => {},
      now: () => Date.now(),
      close: () => void engineClosed.push('closed'),
    }),
    netnsExists: async (path) => path === add.env.CNI_NETNS,
    // The real listener on a socket of the test's own: no process, nothing of the node's.
    socketServer: (serve) =>
      new SocketServer({ ...serve, socketPath, uid: process.getuid?.() ?? 0, log: silentLogger }),
  };
  const listening = new Promise<void>((resolve) => (deps.onListening = () => resolve()));
  const stop = new AbortController();
  const running = runDaemon(deps, stop.signal);
  t.after(() => stop.abort());
  await Promise.race([listening, running]);
  return { socketPath, cluster, lists, engineClosed, stop, running };
}

/** Resolves once `cond` holds (checked every 20 ms); fails when it has not after `ms`. */
async function until(what: string, cond: () => boolean, ms = 20_000): Promise<void> {
  for (const end = Date.now() + ms; !cond(); await new Promise((r) => setTimeout(r, 20)))
    if (Date.now() > end) assert.fail(`still waiting for ${what}`);
}

function call(socketPath: string, method: string, path: string, body?: unknown) {
  return new Promise<{ status: number; json: Record<string, unknown> }>((resolve, reject) => {
    const req = request(
      { socketPath, method, path, headers: { 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

const add = {
  env: {
    CNI_COMMAND: 'ADD',
    CNI_CONTAINERID: 'c1',
    CNI_NETNS: '/run/netns/p1',
    CNI_IFNAME: 'eth0',
    CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=p1;K8S_POD_UID=uid-1',
    CNI_PATH: '/opt/cni/bin',
  },
  config: JSON.stringify({ cniVersion: '1.0.0', name: 'multinet-cni-network', type: 'multinet-shim' }),
};

describe('runDaemon lifecycle (FAKE cluster and delegates, the real socket listener)', () => {
  it('starts, serves an ADD on its socket, and on abort closes everything and removes the socket', async (t) => {
    const d = await start(t);
    assert.ok(existsSync(d.socketPath), 'listening on the socket');
    assert.deepEqual(d.cluster.events, ['start']);

    const ready = await call(d.socketPath, 'GET', '/readyz');
    assert.equal(ready.status, 200, JSON.stringify(ready.json));

    const answer = await call(d.socketPath, 'POST', '/cni', add);
    assert.equal(answer.status, 200);
    assert.equal(answer.json['exitCode'], 0, String(answer.json['stdout']));
    const result = JSON.parse(String(answer.json['stdout'])) as { cniVersion: string };
    assert.equal(result.cniVersion, '1.0.0');
    assert.deepEqual(d.lists.lines(), ['ADD podnet eth0']);

    d.stop.abort(); // what SIGTERM becomes in src/bin/daemon-main.ts
    await d.running;
    assert.equal(existsSync(d.socketPath), false, 'the socket is gone');
    assert.deepEqual(d.cluster.events, ['start', 'stopped', 'flush', 'close']);
    assert.deepEqual(d.engineClosed, ['closed']);
  });

  it('readiness follows the caches and the default network; ADD answers 11 while there is none', async (t) => {
    const auto = new FakeDefaultNetworkSource();
    const d = await start(t, { autoConfig: auto });
    d.cluster.cache.synced = false;
    const notReady = await call(d.socketPath, 'GET', '/readyz');
    assert.equal(notReady.status, 503);
    const checks = notReady.json['checks'] as Record<string, { ok: boolean; detail?: string }>;
    assert.equal(checks['cache:pods']?.ok, false);
    assert.match(checks['defaultNetwork']?.detail ?? '', /no primary network config/);

    const refused = await call(d.socketPath, 'POST', '/cni', add);
    assert.equal(JSON.parse(String(refused.json['stdout'])).code, 11, String(refused.json['stdout']));
    assert.deepEqual(d.lists.lines(), [], 'no delegate ran');

    d.cluster.cache.synced = true;
    const text = JSON.stringify(PRIMARY);
    auto.current = {
      ready: true,
      primary: { name: '10-podnet.conflist', content: text, config: parseNetworkConfig(text) },
      config: PRIMARY,
    };
    assert.equal((await call(d.socketPath, 'GET', '/readyz')).status, 200);
    const served = await call(d.socketPath, 'POST', '/cni', add);
    assert.equal(served.json['exitCode'], 0, String(served.json['stdout']));
    assert.deepEqual(d.lists.lines(), ['ADD podnet eth0']);
  });

  it('warns at start about each unknown key of its config file, by name, and serves all the same', async (t) => {
    const warnings: { fields: Record<string, unknown>; msg: string }[] = [];
    const log: Logger = { ...silentLogger, warn: (fields, msg) => void warnings.push({ fields, msg }) };
    const d = await start(t, { daemon: { maxConcurentRequests: 4, namespaceIsolaton: true }, log });
    const named = warnings.filter((w) => /unknown key/.test(w.msg)).map((w) => w.fields['key']);
    assert.deepEqual(named, ['maxConcurentRequests', 'namespaceIsolaton']);
    assert.match(
      warnings.find((w) => w.fields['key'] === 'maxConcurentRequests')!.msg,
      /daemon config: unknown key "maxConcurentRequests" ignored/,
    );
    const answer = await call(d.socketPath, 'POST', '/cni', add);
    assert.equal(answer.json['exitCode'], 0, String(answer.json['stdout']));
  });

  it('with checkIntervalSeconds, CHECKs what it attached, in the background, and stops on abort', async (t) => {
    const d = await start(t, { daemon: { checkIntervalSeconds: 1 } });
    const answer = await call(d.socketPath, 'POST', '/cni', add);
    assert.equal(answer.json['exitCode'], 0, String(answer.json['stdout']));
    await until('a CHECK', () => d.lists.lines().includes('CHECK podnet eth0'));
    assert.deepEqual(d.lists.lines().slice(0, 2), ['ADD podnet eth0', 'CHECK podnet eth0']);
    d.stop.abort();
    await d.running;
    assert.equal(existsSync(d.socketPath), false);
  });
});

/**
 * FAKE delegates that, like ChildProcessRunner, listen for an abort on the signal they are given
 * while they run, and hold every ADD's first delegate until the gate opens: the test sees every
 * request in its delegate at one moment, with no timing involved.
 */
class GatedDelegateLists extends FakeDelegateLists {
  /** The signal each held delegate got, in arrival order. */
  readonly held: (AbortSignal | undefined)[] = [];
  open!: () => void;
  private readonly gate = new Promise<void>((resolve) => (this.open = resolve));

  override async add(list: NetworkConfigList, rt: RuntimeConf, signal?: AbortSignal): Promise<CniResult> {
    const onAbort = () => undefined;
    signal?.addEventListener('abort', onAbort, { once: true });
    this.held.push(signal);
    try {
      await this.gate;
      return await super.add(list, rt);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }
}

describe('runDaemon under a burst of concurrent ADDs (issue 15)', () => {
  it('adds no listener per request or per delegate to a signal the requests share', async (t) => {
    // 16 requests in their delegates and 8 queued for a slot: past Node's 10 listeners per target.
    const inFlight = 16;
    const pods = 24;
    const lists = new GatedDelegateLists();
    const warnings: Error[] = [];
    const onWarning = (w: Error) => void warnings.push(w);
    process.on('warning', onWarning);
    t.after(() => void process.off('warning', onWarning));
    const d = await start(t, {
      lists,
      daemon: { maxConcurrentRequests: inFlight, maxConcurrentRequestsPerNamespace: inFlight },
    });
    for (const n of ['net-a', 'net-b', 'net-c'])
      d.cluster.view.addNad('default', n, { cniVersion: '1.0.0', name: n, type: 'macvlan' });
    const env = (command: string, i: number) => ({
      ...add.env,
      CNI_COMMAND: command,
      CNI_CONTAINERID: `burst${i}`,
      CNI_NETNS: `/run/netns/burst${i}`,
      CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=burst${i};K8S_POD_UID=uid-b${i}`,
    });
    for (let i = 0; i < pods; i++)
      d.cluster.view.addPod({
        namespace: 'default',
        name: `burst${i}`,
        uid: `uid-b${i}`,
        annotations: { 'k8s.v1.cni.cncf.io/networks': 'net-a,net-b,net-c' },
      });
    const shared = getEventListeners(d.stop.signal, 'abort').length;

    const adds = Array.from({ length: pods }, (_, i) =>
      call(d.socketPath, 'POST', '/cni', { ...add, env: env('ADD', i) }),
    );
    await until(`${inFlight} ADDs in their first delegate`, () => lists.held.length === inFlight);
    const signals = lists.held;
    assert.equal(new Set(signals).size, inFlight, 'each request has a signal of its own');
    for (const s of signals) assert.equal(getEventListeners(s!, 'abort').length, 1, 'its delegate only');
    assert.equal(getEventListeners(d.stop.signal, 'abort').length, shared, "the daemon's own signal");

    lists.open();
    for (const a of await Promise.all(adds)) assert.equal(a.json['exitCode'], 0, String(a.json['stdout']));
    assert.equal(lists.held.length, pods * 4, 'eth0 and 3 networks per pod');
    const dels = await Promise.all(
      Array.from({ length: pods }, (_, i) =>
        call(d.socketPath, 'POST', '/cni', { ...add, env: env('DEL', i) }),
      ),
    );
    for (const r of dels) assert.equal(r.json['exitCode'], 0, String(r.json['stdout']));
    for (const s of lists.held) assert.equal(getEventListeners(s!, 'abort').length, 0, 'nothing left behind');
    assert.equal(getEventListeners(d.stop.signal, 'abort').length, shared);
    // Warnings are emitted on the next tick.
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(
      warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map((w) => w.message),
      [],
    );
  });
});
