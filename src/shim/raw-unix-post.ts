import type * as Net from 'node:net';
import type { PostResult } from './run-shim.ts';

/**
 * One HTTP/1.1 POST over a unix socket, written as one prebuilt request and read back by hand
 * (none of node:http's client machinery to load at every shim start). Reads the answer up to its
 * Content-Length (the daemon always sends one), else chunked, else to EOF. Under Bun (the shipped
 * shim is a Bun executable) it uses Bun's own socket: through Bun's node:net layer the request
 * cost 4.3 ms over the shim's start, through its own socket 0.5 ms (bench/ scenario 5).
 */
export function rawUnixPost(socketPath: string, path: string, body: string): Promise<PostResult> {
  const bun = (globalThis as { Bun?: { connect?: BunConnect } }).Bun;
  const request = requestBytes(path, body);
  return typeof bun?.connect === 'function'
    ? bunPost(bun.connect, socketPath, request)
    : nodePost(socketPath, request);
}

/** The same POST through node:net whatever the runtime (bench/ keeps it as a shim candidate). */
export function nodeNetPost(socketPath: string, path: string, body: string): Promise<PostResult> {
  return nodePost(socketPath, requestBytes(path, body));
}

function requestBytes(path: string, body: string): Buffer {
  const payload = Buffer.from(body, 'utf8');
  const head =
    `POST ${path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${payload.length}\r\nConnection: close\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), payload]);
}

/** Collects the answer's bytes and settles once: complete answer, error, or close. */
function answerReader(resolve: (r: PostResult) => void, reject: (e: Error) => void, close: () => void) {
  const chunks: Buffer[] = [];
  let done = false;
  const finish = (err: Error | undefined, result?: PostResult) => {
    if (done) return;
    done = true;
    close();
    if (err) reject(err);
    else resolve(result!);
  };
  const early = () => new Error('daemon closed the connection before a complete answer');
  return {
    data(c: Uint8Array) {
      chunks.push(Buffer.from(c.buffer, c.byteOffset, c.byteLength));
      const r = parseResponse(Buffer.concat(chunks), false);
      if (r) finish(undefined, r);
    },
    end() {
      const r = parseResponse(Buffer.concat(chunks), true);
      finish(r ? undefined : early(), r);
    },
    error: (err: Error) => finish(err),
    close: () => finish(early()),
  };
}

function nodePost(socketPath: string, request: Buffer): Promise<PostResult> {
  const net = process.getBuiltinModule('node:net') as typeof Net;
  return new Promise((resolve, reject) => {
    const reader = answerReader(resolve, reject, () => sock.destroy());
    const sock = net.createConnection(socketPath, () => sock.write(request));
    sock.on('data', reader.data);
    sock.on('end', reader.end);
    sock.on('error', reader.error);
    sock.on('close', reader.close);
  });
}

/** The part of Bun's socket API (Bun.connect) the shim uses; Bun's own types are not a dependency. */
interface BunSocket {
  write(data: Uint8Array): number;
  end(): void;
  terminate(): void;
}
interface BunHandlers {
  open(s: BunSocket): void;
  data(s: BunSocket, data: Uint8Array): void;
  drain(s: BunSocket): void;
  end(s: BunSocket): void;
  close(s: BunSocket): void;
  error(s: BunSocket, err: Error): void;
  connectError(s: BunSocket, err: Error): void;
}
type BunConnect = (opts: { unix: string; socket: BunHandlers }) => Promise<BunSocket>;

/** Bun's errors say only "Failed to connect": name the code and socket as node:net does. */
function connectFailure(err: unknown, socketPath: string): Error {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? new Error(`connect ${code} ${socketPath}`) : (err as Error);
}

function bunPost(connect: BunConnect, socketPath: string, request: Buffer): Promise<PostResult> {
  return new Promise((resolve, reject) => {
    let sock: BunSocket | undefined;
    const reader = answerReader(resolve, reject, () => sock?.terminate());
    let pending = request;
    // write() may take part of the request (a full socket buffer); drain() sends the rest.
    const flush = (s: BunSocket) => {
      if (pending.length > 0) pending = pending.subarray(Math.max(0, s.write(pending)));
    };
    connect({
      unix: socketPath,
      socket: {
        open: (s) => {
          sock = s;
          flush(s);
        },
        drain: flush,
        data: (_s, d) => reader.data(d),
        end: () => reader.end(),
        close: () => reader.close(),
        error: (_s, err) => reader.error(err),
        connectError: (_s, err) => reader.error(connectFailure(err, socketPath)),
      },
    }).catch((err: unknown) => reader.error(connectFailure(err, socketPath)));
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
