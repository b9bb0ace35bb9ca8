import type * as Net from 'node:net';
import type { PostResult } from './run-shim.ts';

/**
 * One HTTP/1.1 POST over a unix socket, written as one prebuilt request and read back by hand:
 * node:net only, none of node:http's client machinery to load at every shim start. Reads the
 * answer up to its Content-Length (the daemon always sends one), else chunked, else to EOF.
 */
export function rawUnixPost(socketPath: string, path: string, body: string): Promise<PostResult> {
  const net = process.getBuiltinModule('node:net') as typeof Net;
  const payload = Buffer.from(body, 'utf8');
  const head =
    `POST ${path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${payload.length}\r\nConnection: close\r\n\r\n`;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (err: Error | undefined, result?: PostResult) => {
      if (done) return;
      done = true;
      sock.destroy();
      if (err) reject(err);
      else resolve(result!);
    };
    const sock = net.createConnection(socketPath, () => {
      sock.write(Buffer.concat([Buffer.from(head, 'latin1'), payload]));
    });
    sock.on('data', (c: Buffer) => {
      chunks.push(c);
      const r = parseResponse(Buffer.concat(chunks), false);
      if (r) finish(undefined, r);
    });
    sock.on('end', () => {
      const r = parseResponse(Buffer.concat(chunks), true);
      finish(r ? undefined : new Error('daemon closed the connection before a complete answer'), r);
    });
    sock.on('error', (err) => finish(err));
    sock.on('close', () => finish(new Error('daemon closed the connection before a complete answer')));
  });
}

/** The answer once complete (`atEof`: the peer closed), else undefined. */
export function parseResponse(buf: Buffer, atEof: boolean): PostResult | undefined {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
  if (!status) return atEof ? { status: 0, body: '' } : undefined;
  const header = (name: string) =>
    lines
      .find((l) => l.toLowerCase().startsWith(`${name}:`))
      ?.slice(name.length + 1)
      .trim();
  const rest = buf.subarray(end + 4);
  const length = header('content-length');
  if (length !== undefined) {
    const n = Number(length);
    if (rest.length < n) return undefined;
    return { status: Number(status[1]), body: rest.subarray(0, n).toString('utf8') };
  }
  if (header('transfer-encoding')?.toLowerCase() === 'chunked') {
    const parts: Buffer[] = [];
    let at = 0;
    for (;;) {
      const nl = rest.indexOf('\r\n', at);
      if (nl < 0) return undefined;
      const size = parseInt(rest.subarray(at, nl).toString('latin1'), 16);
      if (!Number.isFinite(size)) return undefined;
      if (size === 0) return { status: Number(status[1]), body: Buffer.concat(parts).toString('utf8') };
      if (rest.length < nl + 2 + size + 2) return undefined;
      parts.push(rest.subarray(nl + 2, nl + 2 + size));
      at = nl + 2 + size + 2;
    }
  }
  return atEof ? { status: Number(status[1]), body: rest.toString('utf8') } : undefined;
}
