import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { parseResponse, rawUnixPost } from './raw-unix-post.ts';

async function listen(t: TestContext, server: Server | ReturnType<typeof createNetServer>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mn-raw-post-'));
  const path = join(dir, 'd.sock');
  await new Promise<void>((r) => server.listen(path, r));
  t.after(async () => {
    server.close();
    await rm(dir, { recursive: true, force: true });
  });
  return path;
}

describe('rawUnixPost', () => {
  it('posts the body with its length and reads a Content-Length answer', async (t) => {
    let seen: { method?: string; url?: string; type?: string; body: string } = { body: '' };
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen = { method: req.method, url: req.url, type: req.headers['content-type'], body };
        res.writeHead(503, { 'content-type': 'application/json', 'content-length': '15' });
        res.end('{"exitCode":1}\n');
      });
    });
    const path = await listen(t, server);
    const body = JSON.stringify({ env: { CNI_COMMAND: 'ADD' }, config: 'ü'.repeat(3) });
    assert.deepEqual(await rawUnixPost(path, '/cni', body), { status: 503, body: '{"exitCode":1}\n' });
    assert.deepEqual(seen, { method: 'POST', url: '/cni', type: 'application/json', body });
  });

  it('reads a chunked answer', async (t) => {
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.write('{"exit');
        res.end('Code":0}');
      });
    });
    const path = await listen(t, server);
    assert.deepEqual(await rawUnixPost(path, '/cni', '{}'), { status: 200, body: '{"exitCode":0}' });
  });

  it('rejects when nothing listens, and when the peer closes mid-answer', async (t) => {
    await assert.rejects(rawUnixPost('/nonexistent/d.sock', '/cni', '{}'), /ENOENT/);
    const half = createNetServer((s) => {
      s.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{"ex');
    });
    const path = await listen(t, half);
    await assert.rejects(rawUnixPost(path, '/cni', '{}'), /before a complete answer/);
  });

  it('waits for the header end and the whole body before answering', () => {
    const full = Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}');
    assert.equal(parseResponse(full.subarray(0, 20), false), undefined);
    assert.equal(parseResponse(full.subarray(0, full.length - 1), false), undefined);
    assert.deepEqual(parseResponse(full, false), { status: 200, body: '{}' });
  });
});
