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
