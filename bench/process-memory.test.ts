import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pidsMatching, rssBytes, statusBytes } from './process-memory.ts';

describe('process memory from /proc', () => {
  it("reads this process's RSS and its peak, the peak never below the current", () => {
    const rss = statusBytes(process.pid, 'VmRSS');
    const peak = statusBytes(process.pid, 'VmHWM');
    assert.ok(rss !== null && rss > 1024 * 1024, `VmRSS ${rss}`);
    assert.ok(peak !== null && peak >= rss, `VmHWM ${peak} against VmRSS ${rss}`);
    assert.equal(typeof rssBytes(process.pid), 'number');
  });

  it('answers null for a process that is gone', () => {
    assert.equal(statusBytes(2 ** 22 + 1, 'VmRSS'), null);
  });

  it('finds processes by command line', () => {
    assert.ok(
      pidsMatching(new RegExp(process.argv[1]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).has(process.pid),
    );
  });
});
