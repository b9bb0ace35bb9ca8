import type { Server } from 'node:http';
import { createServer } from 'node:http';
import type { Logger } from '../engine/logger.ts';
import type { Readiness } from './health.ts';
import { serveHealth, writeJson } from './health.ts';

export interface MetricsServerOptions {
  host: string;
  port: number;
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
    const server = createServer((req, res) => {
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
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
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
