import { chmod } from 'node:fs/promises';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { Logger } from '../log/logger.ts';
import { CNI_PATH_ENDPOINT, MAX_REQUEST_BYTES } from '../wire/daemon-wire.ts';
import type { HandlerAnswer } from './handle-cni-request.ts';
import type { Readiness } from './health.ts';
import { serveHealth, writeJson } from './health.ts';
import { BodyTooLargeError, readBody } from './read-body.ts';
import { ensureSocketDir, removeStaleSocket } from './socket-dir.ts';

/** Deadlines for receiving a request's headers and all of it (not for answering it). */
export const HEADERS_TIMEOUT_MS = 5_000;
export const REQUEST_TIMEOUT_MS = 10_000;

export interface SocketServerOptions {
  socketPath: string;
  /** Owner the socket directory must have (the daemon's own uid: root in production). */
  uid: number;
  handle(body: unknown): Promise<HandlerAnswer>;
  readiness(): Readiness;
  log: Logger;
}

/**
 * The unix-socket HTTP adapter around handleCniRequest: `POST /cni`, `GET /healthz`,
 * `GET /readyz`. Socket 0600 in a 0700 directory (root only).
 */
export class SocketServer {
  private server: Server | undefined;

  constructor(private readonly opts: SocketServerOptions) {}

  async listen(): Promise<void> {
    const { socketPath, uid } = this.opts;
    await ensureSocketDir(socketPath, uid);
    await removeStaleSocket(socketPath);
    const server = createServer(
      // A request is a few KiB from a local shim: a client that takes seconds to send it is
      // broken or hostile, and must not hold a connection (Node's defaults: 60 s for headers,
      // 300 s for the whole request, checked every 30 s).
      {
        headersTimeout: HEADERS_TIMEOUT_MS,
        requestTimeout: REQUEST_TIMEOUT_MS,
        connectionsCheckingInterval: 1_000,
      },
      (req, res) => void this.route(req, res),
    );
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    // The directory is 0700 already, so nobody can connect in the moment before this chmod.
    await chmod(socketPath, 0o600);
    this.server = server;
    this.opts.log.info({ socketPath }, 'listening');
  }

  /** Stops accepting; resolves when every open connection has closed. */
  close(): Promise<void> {
    const server = this.server;
    if (!server?.listening) return Promise.resolve();
    return new Promise((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
  }

  /** Drops connections still open (after the shutdown deadline). */
  closeAllConnections(): void {
    this.server?.closeAllConnections();
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      if (serveHealth(req.method, req.url, res, this.opts.readiness)) return;
      if (req.method !== 'POST' || req.url !== CNI_PATH_ENDPOINT) {
        writeJson(res, 404, { error: 'not found' });
        return;
      }
      const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== 'application/json') {
        req.resume();
        writeJson(res, 415, {
          exitCode: 1,
          stdout: `${JSON.stringify({ code: 6, msg: 'multinet daemon: undecodable request', details: `content-type must be application/json, got ${JSON.stringify(type)}` })}\n`,
        });
        return;
      }
      let body: unknown;
      try {
        body = JSON.parse(await readBody(req, MAX_REQUEST_BYTES));
      } catch (err) {
        const tooLarge = err instanceof BodyTooLargeError;
        writeJson(res, tooLarge ? 413 : 400, {
          exitCode: 1,
          stdout: `${JSON.stringify({ code: 6, msg: 'multinet daemon: undecodable request', details: String(err) })}\n`,
        });
        return;
      }
      const answer = await this.opts.handle(body);
      res.shouldKeepAlive = false;
      writeJson(res, answer.status, answer.json);
    } catch (err) {
      this.opts.log.error(
        { err: err instanceof Error ? err.message : String(err) },
        'request handling failed',
      );
      if (!res.headersSent)
        writeJson(res, 500, {
          exitCode: 1,
          stdout: `${JSON.stringify({ code: 999, msg: 'multinet daemon: internal error', details: String(err) })}\n`,
        });
    }
  }
}
