import type { Server } from 'node:http';
import { createServer } from 'node:http';
import type { Logger } from '../log/logger.ts';
import type { Readiness } from './health.ts';
import { serveHealth, writeJson } from './health.ts';

/**
 * Bounds of the metrics listener: any local user can connect to it, so it must never use up the
 * daemon's file descriptors or event loop (issue 10 #9). Connections beyond `maxConnections` are
 * closed as soon as they are accepted; a client has 5 s for its headers, 10 s for its request,
 * and an idle keep-alive connection is closed after 5 s.
 */
export const METRICS_MAX_CONNECTIONS = 32;
export const METRICS_HEADERS_TIMEOUT_MS = 5_000;
export const METRICS_REQUEST_TIMEOUT_MS = 10_000;
export const METRICS_IDLE_TIMEOUT_MS = 5_000;

export interface MetricsServerOptions {
  host: string;
  port: number;
  /** Open connections at most (default METRICS_MAX_CONNECTIONS). */
  maxConnections?: number;
  metrics(): Promise<{ contentType: string; text: string }>;
  readiness(): Readiness;
  log: Logger;
}

/** `/metrics`, `/healthz`, `/readyz` over TCP (loopback unless the config allows otherwise). */
export class MetricsServer {
  private server: Server | undefined;

  constructor(private readonly opts: MetricsServerOptions) {}

  /** The bound port (useful when configured as 0). */
  get port(): number {
    const addr = this.server?.address();
    return typeof addr === 'object' && addr ? addr.port : 0;
  }

  async listen(): Promise<void> {
    const server = createServer(
      {
        headersTimeout: METRICS_HEADERS_TIMEOUT_MS,
        requestTimeout: METRICS_REQUEST_TIMEOUT_MS,
        connectionsCheckingInterval: 1_000,
      },
      (req, res) => {
        if (serveHealth(req.method, req.url, res, this.opts.readiness)) return;
        if (req.method === 'GET' && (req.url ?? '').split('?')[0] === '/metrics') {
          this.opts.metrics().then(
            ({ contentType, text }) => {
              res.writeHead(200, { 'content-type': contentType });
              res.end(text);
            },
            (err: unknown) => writeJson(res, 500, { error: String(err) }),
          );
          return;
        }
        writeJson(res, 404, { error: 'not found' });
      },
    );
    server.maxConnections = this.opts.maxConnections ?? METRICS_MAX_CONNECTIONS;
    server.keepAliveTimeout = METRICS_IDLE_TIMEOUT_MS;
    // A connection that sends nothing at all: no request timer runs for it.
    server.timeout = METRICS_IDLE_TIMEOUT_MS;
    let dropped = 0;
    server.on('drop', () => {
      if (dropped++ % 1000 === 0)
        this.opts.log.warn(
          { dropped, maxConnections: server.maxConnections },
          'metrics: connection limit reached',
        );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    // An accept that fails (EMFILE) must not become an uncaught error that ends the daemon.
    server.on('error', (err) => this.opts.log.warn({ err: err.message }, 'metrics listener error'));
    this.server = server;
    this.opts.log.info({ address: `${this.opts.host}:${this.port}` }, 'metrics listening');
  }

  close(): Promise<void> {
    const server = this.server;
    if (!server?.listening) return Promise.resolve();
    return new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}
