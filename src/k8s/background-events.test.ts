import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../log/logger.ts';
import { FakeClusterView } from '../../test/support/memory-cluster-view.ts';
import { BackgroundEvents } from './background-events.ts';

const pod = { namespace: 'ns', name: 'p', uid: 'u' };

describe('BackgroundEvents', () => {
  it('answers at once, sends in order, and flush waits for the queue', async () => {
    const inner = new FakeClusterView();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slowRecord = inner.recordEvent.bind(inner);
    inner.recordEvent = async (...a) => {
      await gate;
      return slowRecord(...a);
    };
    const ev = new BackgroundEvents(inner, silentLogger);
    await ev.recordEvent(pod, 'Normal', 'AddedInterface', 'one');
    await ev.recordEvent(pod, 'Normal', 'AddedInterface', 'two');
    assert.equal(inner.events.length, 0, 'recording did not wait for the API');
    release();
    await ev.flush();
    assert.deepEqual(
      inner.events.map((e) => e.message),
      ['one', 'two'],
    );
  });

  it('drops (and counts) events past its bound instead of growing', async () => {
    const inner = new FakeClusterView();
    inner.recordEvent = () => new Promise(() => {});
    const ev = new BackgroundEvents(inner, silentLogger, 3);
    for (let i = 0; i < 10; i++) await ev.recordEvent(pod, 'Normal', 'AddedInterface', String(i));
    assert.equal(ev.dropped, 7);
  });

  it('reads and status writes go straight through', async () => {
    const inner = new FakeClusterView();
    inner.addPod({ ...pod, annotations: {} });
    const ev = new BackgroundEvents(inner, silentLogger);
    assert.equal((await ev.getPod('ns', 'p'))?.uid, 'u');
    await ev.writeNetworkStatus(pod, '[]');
    assert.equal(inner.statusWrites.length, 1);
  });
});
