import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClusterView } from '../../test/support/memory-cluster-view.ts';
import { silentLogger } from '../log/logger.ts';
import { CachedClusterView } from './cached-cluster-view.ts';
import type { NetworkObject, PodInfo } from './cluster-view.ts';
import type { WatchClient } from './informer.ts';
import { Informer } from './informer.ts';
import { toCachedNetworkObject, toCachedPod } from './informer-objects.ts';
import type { KubeResponse } from './kube-rest-client.ts';

/** FAKE API: one list answer per informer, watches that idle, live GETs counted. */
class FakeApi implements WatchClient {
  gets: string[] = [];
  constructor(
    private readonly items: Record<string, unknown[]>,
    private readonly live: Record<string, unknown> = {},
  ) {}
  async request(_m: string, path: string): Promise<KubeResponse> {
    const base = path.split('?')[0]!;
    if (path.includes('limit=')) {
      // The legacy CRD is not installed here unless a test lists it.
      if (!(base in this.items) && base.includes('kubernetes.cni.cncf.io'))
        return { status: 404, body: '{}' };
      const items = this.items[base] ?? [];
      return { status: 200, body: JSON.stringify({ metadata: { resourceVersion: '1' }, items }) };
    }
    this.gets.push(base);
    const hit = this.live[base];
    return hit ? { status: 200, body: JSON.stringify(hit) } : { status: 404, body: '{}' };
  }
  async stream(path: string, onChunk: (c: Buffer, status: number) => void): Promise<number> {
    const res = await this.request('GET', path);
    onChunk(Buffer.from(res.body), res.status);
    return res.status;
  }
  async watch(_p: string, _on: (l: string) => void, signal: AbortSignal): Promise<number> {
    await new Promise((r) => signal.addEventListener('abort', r, { once: true }));
    return 200;
  }
}

const pod = (name: string, uid: string) => ({
  metadata: {
    namespace: 'default',
    name,
    uid,
    annotations: {
      'k8s.v1.cni.cncf.io/networks': 'net1',
      'kubectl.kubernetes.io/last-applied-configuration': 'x'.repeat(5000),
    },
    managedFields: [{ big: true }],
  },
  spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'busybox', env: [{ name: 'A', value: 'b' }] }] },
  status: { phase: 'Running' },
});
const nad = (name: string) => ({
  metadata: { namespace: 'default', name, uid: 'u', managedFields: [] },
  spec: { config: '{}' },
});

async function setup(live: FakeClusterView, api: FakeApi, t0 = 1_000_000, networkMissWindowMs?: number) {
  let now = t0;
  const stop = new AbortController();
  const pods = new Informer<PodInfo>(api, {
    resource: 'pods',
    path: '/api/v1/pods',
    transform: toCachedPod,
    log: silentLogger,
  });
  const nads = new Informer<NetworkObject>(api, {
    resource: 'nads',
    path: '/apis/k8s.cni.cncf.io/v1/network-attachment-definitions',
    transform: (o) =>
      toCachedNetworkObject(o, 'k8s.cni.cncf.io/v1', 'NetworkAttachmentDefinition', 64 * 1024),
    log: silentLogger,
  });
  const networks = new Informer<NetworkObject>(api, {
    resource: 'networks',
    path: '/apis/kubernetes.cni.cncf.io/v1/networks',
    transform: (o) => o,
    optional: true,
    log: silentLogger,
  });
  const runs = [pods, nads, networks].map((i) => i.start(stop.signal));
  await Promise.all([pods, nads, networks].map((i) => i.whenSynced()));
  const view = new CachedClusterView({
    live,
    client: api,
    pods,
    nads,
    networks,
    now: () => now,
    ...(networkMissWindowMs !== undefined ? { networkMissWindowMs } : {}),
  });
  return {
    view,
    advance: (ms: number) => (now += ms),
    stop: async () => {
      stop.abort();
      await Promise.all(runs);
    },
  };
}

describe('CachedClusterView', () => {
  it('answers hits from the cache with only what the engine needs', async () => {
    const live = new FakeClusterView();
    const api = new FakeApi({
      '/api/v1/pods': [pod('p1', 'u1')],
      '/apis/k8s.cni.cncf.io/v1/network-attachment-definitions': [nad('net1')],
    });
    const s = await setup(live, api);
    const p = await s.view.getPod('default', 'p1');
    assert.deepEqual(p, {
      namespace: 'default',
      name: 'p1',
      uid: 'u1',
      nodeName: 'n1',
      annotations: { 'k8s.v1.cni.cncf.io/networks': 'net1' },
    });
    const n = await s.view.getNetworkObject('default', 'net1');
    assert.deepEqual(n, {
      apiVersion: 'k8s.cni.cncf.io/v1',
      kind: 'NetworkAttachmentDefinition',
      metadata: { namespace: 'default', name: 'net1', uid: 'u' },
      spec: { config: '{}' },
    });
    assert.deepEqual(api.gets, []);
    await s.stop();
  });

  it('a missing pod costs exactly one live GET; retries wait for the watch', async () => {
    const live = new FakeClusterView();
    live.addPod({ namespace: 'default', name: 'new', uid: 'u9', annotations: {} });
    const s = await setup(live, new FakeApi({ '/api/v1/pods': [] }));
    let liveReads = 0;
    const orig = live.getPod.bind(live);
    live.getPod = async (ns, n) => (liveReads++, orig(ns, n));
    assert.equal((await s.view.getPod('default', 'new'))?.uid, 'u9');
    assert.equal(await s.view.getPod('default', 'new'), undefined);
    s.advance(100);
    assert.equal(await s.view.getPod('default', 'new'), undefined);
    assert.equal(liveReads, 1);
    s.advance(6_000);
    await s.view.getPod('default', 'new');
    assert.equal(liveReads, 2);
    await s.stop();
  });

  it('an immediate second read of a cached pod (UID mismatch retry) goes live once', async () => {
    const live = new FakeClusterView();
    live.addPod({ namespace: 'default', name: 'p1', uid: 'u2', annotations: {} });
    const s = await setup(live, new FakeApi({ '/api/v1/pods': [pod('p1', 'u1')] }));
    assert.equal((await s.view.getPod('default', 'p1'))?.uid, 'u1');
    s.advance(50);
    assert.equal((await s.view.getPod('default', 'p1'))?.uid, 'u2', 'the repeat is answered live');
    s.advance(2_000);
    assert.equal((await s.view.getPod('default', 'p1'))?.uid, 'u1', 'a later, unrelated read uses the cache');
    await s.stop();
  });

  it('a missing NAD is read live once; the legacy kind is skipped when its CRD is absent', async () => {
    const api = new FakeApi(
      { '/apis/k8s.cni.cncf.io/v1/network-attachment-definitions': [] },
      { '/apis/k8s.cni.cncf.io/v1/namespaces/default/network-attachment-definitions/late': nad('late') },
    );
    const s = await setup(new FakeClusterView(), api);
    assert.ok(await s.view.getNetworkObject('default', 'late'));
    assert.equal(await s.view.getNetworkObject('default', 'missing'), undefined);
    assert.deepEqual(api.gets, [
      '/apis/k8s.cni.cncf.io/v1/namespaces/default/network-attachment-definitions/late',
      '/apis/k8s.cni.cncf.io/v1/namespaces/default/network-attachment-definitions/missing',
    ]);
    await s.stop();
  });

  it('a second miss of a NAD waits for the watch, unless the miss window is 0 (the webhook)', async () => {
    const path = '/apis/k8s.cni.cncf.io/v1/namespaces/default/network-attachment-definitions/late';
    const list = { '/apis/k8s.cni.cncf.io/v1/network-attachment-definitions': [] };
    for (const [window, expected] of [
      [undefined, undefined],
      [0, 'late'],
    ] as const) {
      const live: Record<string, unknown> = {};
      const api = new FakeApi(list, live);
      const s = await setup(new FakeClusterView(), api, 1_000_000, window);
      assert.equal(await s.view.getNetworkObject('default', 'late'), undefined);
      live[path] = nad('late'); // created now; the watch has not delivered it
      s.advance(100);
      const again = await s.view.getNetworkObject('default', 'late');
      assert.equal(
        (again?.['metadata'] as { name?: string } | undefined)?.name,
        expected,
        `window ${window}`,
      );
      await s.stop();
    }
  });

  it('writes go to the API', async () => {
    const live = new FakeClusterView();
    const s = await setup(live, new FakeApi({}));
    await s.view.writeNetworkStatus({ namespace: 'default', name: 'p', uid: 'u' }, '[]');
    await s.view.recordEvent({ namespace: 'default', name: 'p', uid: 'u' }, 'Normal', 'AddedInterface', 'x');
    assert.equal(live.statusWrites.length, 1);
    assert.equal(live.events.length, 1);
    await s.stop();
  });
});
