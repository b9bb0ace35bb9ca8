import { connect as http2Connect, constants, type ClientHttp2Session } from 'node:http2';
import { connect as netConnect } from 'node:net';

/**
 * One unary gRPC call over a unix socket (gRPC over HTTP/2, grpc/grpc PROTOCOL-HTTP2.md), with
 * node:http2 and nothing else: a fresh connection per call (the kubelet's local sockets are
 * cheap to dial, and nothing stays open between CNI calls), a deadline sent as `grpc-timeout`
 * and enforced here, and a bound on the response size. No compression is offered, so the
 * server sends plain messages.
 */
export interface UnaryCall {
  socketPath: string;
  /** `/package.Service/Method`. */
  method: string;
  message: Uint8Array;
  timeoutMs: number;
  maxResponseBytes: number;
  signal?: AbortSignal;
}

/** gRPC status codes used by callers (grpc/grpc doc/statuscodes.md). */
export const GrpcStatus = {
  Ok: 0,
  Unknown: 2,
  DeadlineExceeded: 4,
  Unimplemented: 12,
  Unavailable: 14,
} as const;

export class GrpcCallError extends Error {
  /** The gRPC status, or undefined when the call never got one (connection failed, bad answer). */
  readonly status: number | undefined;
  constructor(status: number | undefined, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'GrpcCallError';
    this.status = status;
  }
}

/** Splits the response body into its length-prefixed messages; a unary answer has exactly one. */
function singleMessage(body: Buffer, method: string): Uint8Array {
  if (body.length < 5) throw new GrpcCallError(undefined, `${method}: the answer carries no message`);
  if (body[0] !== 0) throw new GrpcCallError(undefined, `${method}: compressed answer (none was offered)`);
  const len = body.readUInt32BE(1);
  if (5 + len !== body.length)
    throw new GrpcCallError(undefined, `${method}: the answer is not exactly one message`);
  return new Uint8Array(body.buffer, body.byteOffset + 5, len);
}

function decodeGrpcMessage(value: unknown): string {
  if (typeof value !== 'string') return '';
  try {
    return decodeURIComponent(value).slice(0, 1000);
  } catch {
    return value.slice(0, 1000);
  }
}

export function grpcUnaryCall(call: UnaryCall): Promise<Uint8Array> {
  const { socketPath, method } = call;
  return new Promise((resolve, reject) => {
    let session: ClientHttp2Session | undefined;
    let done = false;
    const finish = (err: Error | undefined, value?: Uint8Array): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      call.signal?.removeEventListener('abort', onAbort);
      session?.destroy();
      socket.destroy();
      if (err) reject(err);
      else resolve(value!);
    };
    const timer = setTimeout(
      () =>
        finish(
          new GrpcCallError(GrpcStatus.DeadlineExceeded, `${method}: no answer within ${call.timeoutMs} ms`),
        ),
      call.timeoutMs,
    );
    const onAbort = (): void => finish(new GrpcCallError(undefined, `${method}: aborted`));
    // Connect first, so that a missing or refused socket is reported as such.
    const socket = netConnect(socketPath);
    if (call.signal?.aborted) return onAbort();
    call.signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('error', (err: NodeJS.ErrnoException) =>
      finish(
        new GrpcCallError(GrpcStatus.Unavailable, `cannot reach ${socketPath}: ${err.code ?? err.message}`, {
          cause: err,
        }),
      ),
    );
    socket.once('connect', () => {
      if (done) return;
      session = http2Connect('http://localhost', {
        createConnection: () => socket,
        settings: { enablePush: false },
      });
      session.on('error', (err: Error) =>
        finish(new GrpcCallError(GrpcStatus.Unavailable, `${method}: ${err.message}`, { cause: err })),
      );
      exchange(session, call, finish);
    });
  });
}

/** Sends the request on an open session and hands the outcome to `finish`. */
function exchange(
  session: ClientHttp2Session,
  call: UnaryCall,
  finish: (err: Error | undefined, value?: Uint8Array) => void,
): void {
  const { method } = call;
  const req = session.request({
    [constants.HTTP2_HEADER_METHOD]: 'POST',
    [constants.HTTP2_HEADER_PATH]: method,
    [constants.HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc',
    te: 'trailers',
    'grpc-timeout': `${Math.max(1, Math.ceil(call.timeoutMs))}m`,
  });
  req.on('error', (err: Error) =>
    finish(new GrpcCallError(GrpcStatus.Unavailable, `${method}: ${err.message}`, { cause: err })),
  );
  let httpStatus = 0;
  let status: string | undefined;
  let statusMessage: unknown;
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('response', (headers) => {
    httpStatus = Number(headers[constants.HTTP2_HEADER_STATUS]);
    // A "trailers-only" answer (errors) carries the status in the headers.
    if (headers['grpc-status'] !== undefined) {
      status = String(headers['grpc-status']);
      statusMessage = headers['grpc-message'];
    }
  });
  req.on('trailers', (trailers) => {
    status = String(trailers['grpc-status']);
    statusMessage = trailers['grpc-message'];
  });
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > call.maxResponseBytes + 5)
      return finish(
        new GrpcCallError(undefined, `${method}: answer larger than ${call.maxResponseBytes} bytes`),
      );
    chunks.push(chunk);
  });
  req.on('end', () => {
    if (httpStatus !== 200)
      return finish(
        new GrpcCallError(undefined, `${method}: HTTP status ${httpStatus} (not a gRPC server?)`),
      );
    const code = status === undefined ? undefined : Number(status);
    if (code === undefined || !Number.isInteger(code))
      return finish(new GrpcCallError(undefined, `${method}: the answer has no grpc-status`));
    if (code !== GrpcStatus.Ok)
      return finish(
        new GrpcCallError(code, `${method}: status ${code}: ${decodeGrpcMessage(statusMessage)}`),
      );
    try {
      finish(undefined, singleMessage(Buffer.concat(chunks), method));
    } catch (err) {
      finish(err as Error);
    }
  });
  const frame = Buffer.alloc(5 + call.message.length);
  frame.writeUInt32BE(call.message.length, 1);
  frame.set(call.message, 5);
  req.end(frame);
}
