import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConcurrencyLimiter } from './concurrency-limiter.ts';

describe('ConcurrencyLimiter', () => {
  it('refuses at once when saturated, accepts again after a release', () => {
    const l = new ConcurrencyLimiter(2);
    const a = l.tryAcquire();
    const b = l.tryAcquire();
    assert.ok(a && b);
    assert.equal(l.tryAcquire(), undefined);
    assert.equal(l.inFlight, 2);
    a();
    a(); // a second release changes nothing
    assert.equal(l.inFlight, 1);
    assert.ok(l.tryAcquire());
  });

  it('whenIdle resolves once everything is released', async () => {
    const l = new ConcurrencyLimiter(3);
    const r = l.tryAcquire()!;
    let idle = false;
    const p = l.whenIdle().then(() => (idle = true));
    await Promise.resolve();
    assert.equal(idle, false);
    r();
    await p;
    assert.equal(idle, true);
  });

  it('rejects a non-positive maximum', () => {
    assert.throws(() => new ConcurrencyLimiter(0), RangeError);
  });
});

describe('ConcurrencyLimiter queue', () => {
  it('a queued request gets the next free slot, in arrival order', async () => {
    const l = new ConcurrencyLimiter(1, 2, 10_000);
    const first = (await l.acquire())!;
    const order: string[] = [];
    const a = l.acquire().then((r) => (order.push('a'), r));
    const b = l.acquire().then((r) => (order.push('b'), r));
    assert.equal(l.queued, 2);
    first();
    (await a)!();
    (await b)!();
    assert.deepEqual(order, ['a', 'b']);
    assert.equal(l.inFlight, 0);
  });

  it('a full queue refuses at once; a waiter past its deadline is refused and leaves the queue', async () => {
    const l = new ConcurrencyLimiter(1, 1, 30);
    const held = (await l.acquire())!;
    const waiting = l.acquire();
    assert.equal(await l.acquire(), undefined, 'queue full');
    assert.equal(await waiting, undefined, 'deadline passed');
    assert.equal(l.queued, 0);
    held();
    assert.equal(l.inFlight, 0);
  });

  it('an aborted waiter leaves the queue without taking a slot', async () => {
    const l = new ConcurrencyLimiter(1, 4, 10_000);
    const held = (await l.acquire())!;
    const ac = new AbortController();
    const waiting = l.acquire(ac.signal);
    ac.abort();
    assert.equal(await waiting, undefined);
    held();
    assert.equal(l.inFlight, 0);
  });
});
