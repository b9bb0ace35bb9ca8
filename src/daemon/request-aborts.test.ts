import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, it } from 'node:test';
import { RequestAborts } from './request-aborts.ts';

describe('RequestAborts', () => {
  it('gives each request its own signal and aborts all in flight, and later ones, at once', () => {
    const aborts = new RequestAborts();
    const a = aborts.begin();
    const b = aborts.begin();
    assert.notEqual(a.signal, b.signal);
    b.end();
    assert.equal(aborts.size, 1);
    aborts.abortAll(new Error('daemon shutting down'));
    assert.equal(a.signal.aborted, true);
    assert.equal(b.signal.aborted, false, 'a finished request is not touched');
    assert.match(String(aborts.begin().signal.reason), /shutting down/);
    assert.equal(aborts.size, 0);
  });

  it('registers no listener anywhere: a finished request leaves nothing behind', () => {
    const aborts = new RequestAborts();
    const r = aborts.begin();
    assert.equal(getEventListeners(r.signal, 'abort').length, 0);
    r.end();
    assert.equal(aborts.size, 0);
  });
});
