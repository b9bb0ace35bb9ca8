import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { describe, it } from 'node:test';
import { readStdinSync, writeAllSync } from './stdio-sync.ts';

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

describe('writeAllSync', () => {
  it('writes on through EAGAIN and partial writes (a non-blocking pipe) until all is written', () => {
    const written: string[] = [];
    let calls = 0;
    const fakeFs = {
      writeSync: (_fd: number, buf: Buffer, offset: number, length: number) => {
        calls++;
        if (calls === 2)
          throw Object.assign(new Error('EAGAIN: resource temporarily unavailable'), { code: 'EAGAIN' });
        const n = Math.min(length, 4);
        written.push(buf.subarray(offset, offset + n).toString());
        return n;
      },
    } as unknown as typeof fs;
    writeAllSync(fakeFs, 1, '{"cniVersion":"1.0.0"}\n');
    assert.equal(written.join(''), '{"cniVersion":"1.0.0"}\n');
    assert.ok(calls > 2);
  });

  it('throws what is not EAGAIN (EPIPE: the reader is gone)', () => {
    const fakeFs = {
      writeSync: () => {
        throw Object.assign(new Error('EPIPE: broken pipe'), { code: 'EPIPE' });
      },
    } as unknown as typeof fs;
    assert.throws(() => writeAllSync(fakeFs, 1, 'x'), /EPIPE/);
  });

  it('writes to a real file descriptor, multi-byte characters whole', () => {
    const dir = fs.mkdtempSync('/tmp/multinet-stdio-');
    try {
      const fd = fs.openSync(`${dir}/out`, 'w');
      try {
        writeAllSync(fs, fd, 'réseau ✓\n');
      } finally {
        fs.closeSync(fd);
      }
      assert.equal(fs.readFileSync(`${dir}/out`, 'utf8'), 'réseau ✓\n');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
