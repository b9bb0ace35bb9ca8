import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ContainerLocks } from './container-locks.ts';

describe('ContainerLocks', () => {
  it('serialises work for one container, in arrival order', async () => {
    const locks = new ContainerLocks();
    const log: string[] = [];
    const job = async (name: string, ms: number) => {
      const release = await locks.acquire('c1');
      log.push(`start ${name}`);
      await sleep(ms);
      log.push(`end ${name}`);
      release();
    };
    await Promise.all([job('ADD', 20), job('DEL', 1), job('CHECK', 1)]);
    assert.deepEqual(log, ['start ADD', 'end ADD', 'start DEL', 'end DEL', 'start CHECK', 'end CHECK']);
    assert.equal(locks.size, 0);
  });

  it('lets different containers run in parallel', async () => {
    const locks = new ContainerLocks();
    const r1 = await locks.acquire('a');
    const r2 = await Promise.race([locks.acquire('b'), sleep(50).then(() => undefined)]);
    assert.ok(r2, 'b must not wait for a');
    r1();
    r2();
    assert.equal(locks.size, 0);
  });
});
