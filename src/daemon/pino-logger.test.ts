import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { pinoLogger } from './pino-logger.ts';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n'))
        if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { lines, stream };
}

describe('pinoLogger', () => {
  it('writes JSON lines with the level name and merged child fields, each key once', () => {
    const { lines, stream } = capture();
    const log = pinoLogger('info', {}, stream).child!({ containerId: 'c1', pod: 'ns/p' });
    log.info({ containerId: 'c1', ms: 3 }, 'CNI request done');
    log.debug({}, 'hidden below info');
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!['level'], 'info');
    assert.equal(lines[0]!['pod'], 'ns/p');
    assert.equal(lines[0]!['msg'], 'CNI request done');
  });

  it('never writes tokens or authorization headers', () => {
    const { lines, stream } = capture();
    const log = pinoLogger('debug', {}, stream);
    log.error(
      {
        authorization: 'Bearer abc',
        token: 'abc',
        request: { headers: { authorization: 'Bearer abc' } },
        conn: { token: 'abc' },
      },
      'request failed',
    );
    assert.doesNotMatch(JSON.stringify(lines), /abc/);
  });
});
