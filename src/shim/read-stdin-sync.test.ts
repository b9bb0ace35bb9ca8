import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { describe, it } from 'node:test';
import { readStdinSync } from './read-stdin-sync.ts';

describe('readStdinSync', () => {
  it('reads on through EAGAIN (a non-blocking pipe) until end of file', () => {
    let calls = 0;
    const data = Buffer.from('{"cniVersion":"1.0.0"}');
    const fakeFs = {
      readSync: (_fd: number, buf: Buffer) => {
        calls++;
        if (calls === 1)
          throw Object.assign(new Error('EAGAIN: resource temporarily unavailable'), { code: 'EAGAIN' });
        if (calls === 2) return data.copy(buf);
        return 0;
      },
    } as unknown as typeof fs;
    assert.equal(readStdinSync(fakeFs).toString(), '{"cniVersion":"1.0.0"}');
    assert.equal(calls, 3);
  });

  it('reads a real file descriptor', () => {
    const fd = fs.openSync('/etc/hostname', 'r');
    try {
      assert.equal(readStdinSync(fs, fd).toString(), fs.readFileSync('/etc/hostname', 'utf8'));
    } finally {
      fs.closeSync(fd);
    }
  });
});
