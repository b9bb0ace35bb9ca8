import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../log/logger.ts';
import { applyWatchEvent } from './informer-event.ts';
import type { WatchClient } from './informer.ts';
import { Informer } from './informer.ts';
import type { KubeResponse } from './kube-rest-client.ts';

const obj = (ns: string, name: string, rv: string, extra: Record<string, unknown> = {}) => ({
  metadata: { namespace: ns, name, resourceVersion: rv, ...extra },
});
const line = (type: string, object: unknown) => JSON.stringify({ type, object });

describe('applyWatchEvent', () => {
  it('puts, replaces and removes objects and tracks the resourceVersion', () => {
    const store = new Map<string, string>();
    const t = (o: Record<string, unknown>) => (o['metadata'] as { resourceVersion: string }).resourceVersion;
    assert.deepEqual(applyWatchEvent(store, line('ADDED', obj('a', 'x', '5')), t), {
      kind: 'applied',
      resourceVersion: '5',
      key: 'a/x',
      value: '5',
      deleted: false,
    });
    applyWatchEvent(store, line('MODIFIED', obj('a', 'x', '6')), t);
    assert.equal(store.get('a/x'), '6');
    // A DELETED reports what was stored (the object as last seen), not the tombstone.
    assert.deepEqual(applyWatchEvent(store, line('DELETED', obj('a', 'x', '7')), t), {
      kind: 'applied',
      resourceVersion: '7',
      key: 'a/x',
      value: '6',
      deleted: true,
    });
    assert.equal(store.size, 0);
    assert.deepEqual(applyWatchEvent(store, line('BOOKMARK', obj('', '', '9')), t), {
      kind: 'bookmark',
      resourceVersion: '9',
    });
    assert.deepEqual(applyWatchEvent(store, line('ERROR', { kind: 'Status', code: 410 }), t), {
      kind: 'gone',
    });
    assert.equal(applyWatchEvent(store, line('ERROR', { code: 500, message: 'x' }), t).kind, 'error');
    assert.equal(applyWatchEvent(store, 'not json', t).kind, 'error');
  });
});

/** FAKE API server: scripted list pages and watch streams (the e2e suite uses kube-apiserver). */
class FakeWatchClient implements WatchClient {
  requests: string[] = [];
  lists: (KubeResponse | ((path: string) => KubeResponse))[] = [];
  watches: ((onLine: (l: string) => void) => number)[] = [];
  done!: () => void;
  finished = new Promise<void>((r) => (this.done = r));
  async request(method: string, path: string): Promise<KubeResponse> {
    this.requests.push(`${method} ${path}`);
    const next = this.lists.shift();
    if (!next) throw new Error('no more lists scripted');
    return typeof next === 'function' ? next(path) : next;
  }
  /** Hands the scripted body over in small chunks, as a real response arrives. */
  async stream(path: string, onChunk: (c: Buffer, status: number) => void): Promise<number> {
    const res = await this.request('GET', path);
    const body = Buffer.from(res.body);
    for (let i = 0; i < body.length; i += 7) onChunk(body.subarray(i, i + 7), res.status);
    return res.status;
  }
  async watch(path: string, onLine: (l: string) => void, signal: AbortSignal): Promise<number> {
    this.requests.push(`WATCH ${path}`);
    const next = this.watches.shift();
    if (!next) {
      this.done();
      await new Promise((r) => signal.addEventListener('abort', r, { once: true }));
      throw new Error('aborted');
    }
    return next(onLine);
  }
}

const listBody = (rv: string, items: unknown[], cont = '') =>
  ({
    status: 200,
    body: JSON.stringify({ metadata: { resourceVersion: rv, continue: cont }, items }),
  }) as KubeResponse;

describe('Informer', () => {
  it('lists in pages, watches from the list version, re-lists on 410 Gone', async () => {
    const c = new FakeWatchClient();
    c.lists.push(listBody('10', [obj('a', 'x', '3')], 'tok'), listBody('10', [obj('a', 'y', '4')]));
    c.watches.push((on) => {
      on(line('ADDED', obj('b', 'z', '11')));
      on(line('ERROR', { kind: 'Status', code: 410 }));
      return 200;
    });
    c.lists.push(listBody('20', [obj('a', 'y', '4'), obj('c', 'w', '19')]));
    const inf = new Informer(c, {
      resource: 'pods',
      path: '/api/v1/pods',
      query: { fieldSelector: 'spec.nodeName=n1' },
      transform: (o) => o,
      log: silentLogger,
      sleep: async () => {},
    });
    const changes: string[] = [];
    inf.subscribe((ch) => {
      changes.push(`${ch.deleted ? 'del' : 'put'} ${ch.key}`);
      if (ch.key === 'a/y') throw new Error('a listener that throws is only logged');
    });
    const stop = new AbortController();
    const run = inf.start(stop.signal);
    await inf.whenSynced();
    await c.finished;
    stop.abort();
    await run;
    // Each list reports its objects (after the last page), each watch event its object.
    assert.deepEqual(changes, ['put a/x', 'put a/y', 'put b/z', 'put a/y', 'put c/w']);
    assert.deepEqual(
      c.requests.map((r) => decodeURIComponent(r)),
      [
        'GET /api/v1/pods?fieldSelector=spec.nodeName=n1&limit=100',
        'GET /api/v1/pods?fieldSelector=spec.nodeName=n1&limit=100&continue=tok',
        'WATCH /api/v1/pods?fieldSelector=spec.nodeName=n1&watch=1&allowWatchBookmarks=true&timeoutSeconds=300&resourceVersion=10',
        'GET /api/v1/pods?fieldSelector=spec.nodeName=n1&limit=100',
        'WATCH /api/v1/pods?fieldSelector=spec.nodeName=n1&watch=1&allowWatchBookmarks=true&timeoutSeconds=300&resourceVersion=20',
      ],
    );
    assert.equal(inf.size, 2);
    assert.ok(inf.get('c', 'w'));
    assert.equal(inf.get('b', 'z'), undefined, 'the re-list replaced the store');
  });

  it('re-watches from the last seen version when the server ends a watch, backs off on errors', async () => {
    const c = new FakeWatchClient();
    const sleeps: number[] = [];
    c.lists.push({ status: 500, body: '{"message":"etcd down"}' }, listBody('1', []));
    c.watches.push((on) => {
      on(line('ADDED', obj('a', 'x', '2')));
      on(line('BOOKMARK', obj('', '', '5')));
      return 200;
    });
    const inf = new Informer(c, {
      resource: 'network-attachment-definitions',
      path: '/apis/k8s.cni.cncf.io/v1/network-attachment-definitions',
      transform: (o) => o,
      log: silentLogger,
      sleep: async (ms) => void sleeps.push(ms),
    });
    const stop = new AbortController();
    const run = inf.start(stop.signal);
    await c.finished;
    stop.abort();
    await run;
    assert.equal(sleeps.length, 1);
    assert.match(c.requests.at(-1)!, /resourceVersion=5$/);
    assert.ok(inf.get('a', 'x'));
  });

  it('a 404 on an optional resource disables the informer (legacy CRD not installed)', async () => {
    const c = new FakeWatchClient();
    c.lists.push({ status: 404, body: '{"message":"the server could not find the requested resource"}' });
    const inf = new Informer(c, {
      resource: 'networks',
      path: '/apis/kubernetes.cni.cncf.io/v1/networks',
      transform: (o) => o,
      optional: true,
      log: silentLogger,
    });
    await inf.start(new AbortController().signal);
    assert.equal(inf.disabled, true);
    assert.equal(inf.synced, true);
  });

  it('a 403 disables an informer marked optionalWhenForbidden (DRA without its RBAC), and only that one', async () => {
    const forbidden = () => ({ status: 403, body: '{"message":"resourceclaims is forbidden"}' });
    const c = new FakeWatchClient();
    c.lists.push(forbidden());
    const inf = new Informer(c, {
      resource: 'resourceclaims',
      path: '/apis/resource.k8s.io/v1/resourceclaims',
      transform: (o) => o,
      optional: true,
      optionalWhenForbidden: true,
      log: silentLogger,
    });
    await inf.start(new AbortController().signal);
    assert.equal(inf.disabled, true);
    assert.equal(inf.synced, true, 'readiness does not wait for it');

    // Without the flag a 403 is an error to retry: the informer stays unsynced.
    const c2 = new FakeWatchClient();
    c2.lists.push(forbidden());
    const stop = new AbortController();
    const strict = new Informer(c2, {
      resource: 'pods',
      path: '/api/v1/pods',
      transform: (o) => o,
      optional: true,
      log: silentLogger,
      sleep: async () => stop.abort(),
    });
    await strict.start(stop.signal);
    assert.equal(strict.disabled, false);
    assert.equal(strict.synced, false);
  });

  it('a watch the server ends at once with no event backs off instead of re-watching in a loop', async () => {
    const c = new FakeWatchClient();
    const sleeps: number[] = [];
    c.lists.push(listBody('1', []));
    for (let i = 0; i < 3; i++) c.watches.push(() => 200);
    const inf = new Informer(c, {
      resource: 'pods',
      path: '/api/v1/pods',
      transform: (o) => o,
      log: silentLogger,
      backoffInitialMs: 100,
      sleep: async (ms) => void sleeps.push(ms),
    });
    const stop = new AbortController();
    const run = inf.start(stop.signal);
    await c.finished;
    stop.abort();
    await run;
    assert.equal(sleeps.length, 3, 'one backoff per short watch');
    assert.ok(sleeps[0]! >= 80 && sleeps[0]! <= 120, `first backoff jittered around 100 ms: ${sleeps[0]}`);
    assert.ok(sleeps[2]! > sleeps[0]! * 2, `the backoff grows: ${sleeps.join(', ')}`);
  });
});
