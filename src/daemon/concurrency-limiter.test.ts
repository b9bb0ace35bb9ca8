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
    const waiting = l.acquire('', ac.signal);
    ac.abort();
    assert.equal(await waiting, undefined);
    held();
    assert.equal(l.inFlight, 0);
  });

  it('one key holds at most its share of slots and queue; the others get slots at once', async () => {
    const l = new ConcurrencyLimiter(4, 8, 10_000, { maxActive: 2, maxQueued: 2 });
    const a1 = (await l.acquire('a'))!;
    const a2 = (await l.acquire('a'))!;
    const a3 = l.acquire('a');
    const a4 = l.acquire('a');
    assert.equal(await l.acquire('a'), undefined, 'key a holds its 2 slots and 2 queue places');
    assert.equal(l.keyFull('a'), true);
    assert.deepEqual(l.held('a'), { active: 2, queued: 2 });
    const b1 = l.tryAcquire('b');
    assert.ok(b1, 'another key gets a free slot while a waits');
    assert.equal(l.keyFull('b'), false);
    a1();
    const a3r = (await a3)!;
    assert.ok(a3r, "a's freed slot goes to a's first waiter");
    b1();
    assert.equal(l.inFlight, 2, "b's freed slot does not go to a, which is at its cap");
    a2();
    a3r();
    (await a4)!();
    assert.equal(l.inFlight, 0);
  });

  it('freed slots go to the waiting keys in turn', async () => {
    const l = new ConcurrencyLimiter(1, 16, 10_000);
    const first = (await l.acquire('a'))!;
    const order: string[] = [];
    const wait = (key: string) =>
      l.acquire(key).then((release) => {
        order.push(key);
        release!();
      });
    const all = [wait('a'), wait('a'), wait('a'), wait('b'), wait('c')];
    first();
    await Promise.all(all);
    assert.deepEqual(order, ['a', 'b', 'c', 'a', 'a']);
  });
});
