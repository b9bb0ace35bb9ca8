import { readFileSync, statSync } from 'node:fs';
import { Agent, request } from 'node:https';
import type { KubeConnection } from './kubeconfig.ts';

export interface KubeResponse {
  status: number;
  body: string;
}

/** Counts requests by verb and resource, for metrics and for the benchmark's API-cost figures. */
export type RequestObserver = (verb: string, path: string, status: number) => void;

/**
 * A small Kubernetes REST client over node:https with keep-alive. We do not use
 * @kubernetes/client-node: importing it costs about 520 ms and 76 MiB RSS on our machines, which
 * thin mode would pay on every pod and the daemon on its memory budget (see docs/architecture.md).
 */
export class KubeRestClient {
  private readonly agent: Agent;
  private token: string | undefined;
  private tokenMtime = 0;

  constructor(
    private readonly conn: KubeConnection,
    private readonly opts: { timeoutMs?: number; observe?: RequestObserver; keepAlive?: boolean } = {},
  ) {
    this.agent = new Agent({
      keepAlive: opts.keepAlive ?? true,
      maxSockets: 16,
      ...(conn.ca ? { ca: conn.ca } : {}),
      ...(conn.cert ? { cert: conn.cert } : {}),
      ...(conn.key ? { key: conn.key } : {}),
      rejectUnauthorized: !conn.insecureSkipTlsVerify,
    });
    this.token = conn.token;
  }

  private bearer(): string | undefined {
    const file = this.conn.tokenFile;
    if (file) {
      try {
        const mtime = statSync(file).mtimeMs;
        if (mtime !== this.tokenMtime) {
          this.token = readFileSync(file, 'utf8').trim();
          this.tokenMtime = mtime;
        }
      } catch {
        // Keep the last good token; the API will say Unauthorized if it expired.
      }
    }
    return this.token;
  }

  request(
    method: string,
    path: string,
    body?: unknown,
    contentType = 'application/json',
    signal?: AbortSignal,
  ): Promise<KubeResponse> {
    const url = new URL(path, this.conn.server);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { accept: 'application/json' };
    const token = this.bearer();
    if (token) headers['authorization'] = `Bearer ${token}`;
    if (payload !== undefined) {
      headers['content-type'] = contentType;
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    return new Promise((resolvePromise, reject) => {
      const req = request(
        url,
        {
          method,
          headers,
          agent: this.agent,
          timeout: this.opts.timeoutMs ?? 10_000,
          ...(signal ? { signal } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            this.opts.observe?.(method, url.pathname, status);
            resolvePromise({ status, body: Buffer.concat(chunks).toString('utf8') });
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`request to ${url.host} timed out`)));
      req.on('error', (err) => {
        this.opts.observe?.(method, url.pathname, 0);
        reject(err);
      });
      req.end(payload);
    });
  }

  /** Streams a watch: calls `onLine` for every JSON line until the server or `signal` ends it. */
  watch(path: string, onLine: (line: string) => void, signal: AbortSignal): Promise<number> {
    const url = new URL(path, this.conn.server);
    const headers: Record<string, string> = { accept: 'application/json' };
    const token = this.bearer();
    if (token) headers['authorization'] = `Bearer ${token}`;
    return new Promise((resolvePromise, reject) => {
      const req = request(url, { method: 'GET', headers, agent: this.agent, signal }, (res) => {
        this.opts.observe?.('WATCH', url.pathname, res.statusCode ?? 0);
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buf += chunk;
          let nl;
          while ((nl = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, nl);
            buf = buf.slice(nl + 1);
            if (line.trim() !== '') onLine(line);
          }
        });
        res.on('end', () => resolvePromise(res.statusCode ?? 0));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

export function apiErrorMessage(res: KubeResponse): string {
  try {
    const msg = (JSON.parse(res.body) as { message?: unknown }).message;
    if (typeof msg === 'string') return `HTTP ${res.status}: ${msg}`;
  } catch {
    // not a Status object
  }
  return `HTTP ${res.status}: ${res.body.slice(0, 200)}`;
}
