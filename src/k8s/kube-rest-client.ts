import { readFileSync, statSync } from 'node:fs';
import type { ClientRequest } from 'node:http';
import { Agent, request } from 'node:https';
import { createSecureContext } from 'node:tls';
import { ExecCredentialSource, type ExecRunner } from './exec-credential.ts';
import type { KubeConnection } from './kubeconfig.ts';

export interface KubeResponse {
  status: number;
  body: string;
  /** The Retry-After header in seconds (429 and 503 answers carry it), when the server sent one. */
  retryAfterSeconds?: number;
}

/**
 * A response body larger than this is refused (the request fails): every other input multinet
 * reads is bounded, and an API answer is no exception. A page of 100 pods is well under 16 MiB
 * (etcd refuses objects over 1.5 MiB by default).
 */
export const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;
/**
 * One LIST page streamed to the informer (KubeRestClient.stream). The informer holds one item at
 * a time, not the page, so this bounds what the server may send rather than memory; a page over
 * it is asked for again in smaller pages (Informer), since tenants choose how large their objects
 * are and a page of 500 NADs near etcd's 1.5 MiB object limit would be 750 MiB.
 */
export const MAX_LIST_BYTES = 64 * 1024 * 1024;
/** One watch event is one object: etcd's default object limit (1.5 MiB) with room to spare. */
export const MAX_WATCH_LINE_BYTES = 4 * 1024 * 1024;

/** An answer (or one watch event) over the client's bound; the request was abandoned. */
export class ResponseTooLargeError extends Error {
  constructor(
    readonly path: string,
    readonly limit: number,
    what = 'the answer',
  ) {
    super(`${path}: ${what} exceeds ${limit} bytes; the request was abandoned`);
  }
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
  private readonly execSource: ExecCredentialSource | undefined;
  private tokenMtime = 0;
  /** A LIST or watch was answered 401: the next request re-reads the token (or runs the plugin). */
  private reauth = false;

  constructor(
    private readonly conn: KubeConnection,
    private readonly opts: {
      timeoutMs?: number;
      observe?: RequestObserver;
      keepAlive?: boolean;
      /** Bound of one request's answer (request()); default MAX_RESPONSE_BYTES. */
      maxResponseBytes?: number;
      /** Bound of one streamed LIST page (stream()); default MAX_LIST_BYTES. */
      maxListBytes?: number;
      /** Bound of one watch event line (watch()); default MAX_WATCH_LINE_BYTES. */
      maxWatchLineBytes?: number;
      /** Runs exec credential plugins (tests script one). */
      execRunner?: ExecRunner;
    } = {},
  ) {
    // One TLS context for every connection: given ca/cert/key instead, each new socket parses
    // the PEMs into a context of its own (0.3-2 ms of the event loop each, in a burst).
    const secureContext = createSecureContext({
      ...(conn.ca ? { ca: conn.ca } : {}),
      ...(conn.cert ? { cert: conn.cert } : {}),
      ...(conn.key ? { key: conn.key } : {}),
    });
    this.agent = new Agent({
      keepAlive: opts.keepAlive ?? true,
      maxSockets: 16,
      secureContext,
      rejectUnauthorized: !conn.insecureSkipTlsVerify,
      ...(conn.tlsServerName ? { servername: conn.tlsServerName } : {}),
    });
    this.token = conn.token;
    if (conn.exec) this.execSource = new ExecCredentialSource(conn.exec, opts.execRunner);
  }

  /**
   * An API path under the server URL. The server may carry a path of its own (a proxy that
   * serves several clusters, as Rancher's https://host/k8s/clusters/ID does): resolving an
   * absolute path against it with new URL(path, server) would drop it, so it is kept as a prefix.
   */
  private url(path: string): URL {
    return new URL(this.conn.server.replace(/\/+$/, '') + path);
  }

  /** The bearer token: from the exec plugin when the kubeconfig has one, else token/tokenFile. */
  private async authToken(force = false): Promise<string | undefined> {
    const again = force || this.reauth;
    this.reauth = false;
    return this.execSource ? this.execSource.token(again) : this.bearer(again);
  }

  /**
   * stream() and watch() cannot send again (their body is already handed on), so a 401 there
   * marks the token stale for the caller's retry: a token file rewritten with the same mtime, or
   * an exec token revoked before its expiry, would otherwise be sent again forever.
   */
  private noteStatus(status: number): void {
    if (status === 401 && (this.conn.tokenFile || this.execSource)) this.reauth = true;
  }

  private bearer(force = false): string | undefined {
    const file = this.conn.tokenFile;
    if (file) {
      try {
        const mtime = statSync(file).mtimeMs;
        if (force || mtime !== this.tokenMtime) {
          this.token = readFileSync(file, 'utf8').trim();
          this.tokenMtime = mtime;
        }
      } catch {
        // Keep the last good token; the API will say Unauthorized if it expired.
      }
    }
    return this.token;
  }

  /**
   * One request. A 401 with a token file re-reads the file even if its mtime looks unchanged (a
   * copy that kept the old mtime, a change within the clock's resolution) and, if the token
   * differs, sends the request once more with the new one.
   */
  async request(
    method: string,
    path: string,
    body?: unknown,
    contentType = 'application/json',
    signal?: AbortSignal,
  ): Promise<KubeResponse> {
    const token = await this.authToken();
    const res = await this.send(method, path, body, contentType, token, signal);
    if (res.status !== 401 || (!this.conn.tokenFile && !this.execSource)) return res;
    const fresh = await this.authToken(true);
    return fresh === token ? res : this.send(method, path, body, contentType, fresh, signal);
  }

  private send(
    method: string,
    path: string,
    body: unknown,
    contentType: string,
    token: string | undefined,
    signal?: AbortSignal,
  ): Promise<KubeResponse> {
    const url = this.url(path);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { accept: 'application/json' };
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
          const limit = this.opts.maxResponseBytes ?? MAX_RESPONSE_BYTES;
          let size = 0;
          const fail = abandon(req, reject);
          res.on('data', (c: Buffer) => {
            if (fail.done) return;
            size += c.length;
            if (size > limit) return fail(new ResponseTooLargeError(`${method} ${url.pathname}`, limit));
            chunks.push(c);
          });
          res.on('end', () => {
            if (fail.done) return;
            const status = res.statusCode ?? 0;
            this.opts.observe?.(method, url.pathname, status);
            const out: KubeResponse = { status, body: Buffer.concat(chunks).toString('utf8') };
            const retryAfter = parseRetryAfter(res.headers['retry-after']);
            if (retryAfter !== undefined) out.retryAfterSeconds = retryAfter;
            resolvePromise(out);
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

  /**
   * A GET whose body is handed over chunk by chunk (with the status) instead of collected: the
   * informer's LIST, whose pages can be large. Resolves with the status when the body ended.
   */
  async stream(
    path: string,
    onChunk: (chunk: Buffer, status: number) => void,
    signal?: AbortSignal,
  ): Promise<number> {
    const url = this.url(path);
    const headers: Record<string, string> = { accept: 'application/json' };
    const token = await this.authToken();
    if (token) headers['authorization'] = `Bearer ${token}`;
    return new Promise((resolvePromise, reject) => {
      const req = request(
        url,
        {
          method: 'GET',
          headers,
          agent: this.agent,
          timeout: this.opts.timeoutMs ?? 10_000,
          ...(signal ? { signal } : {}),
        },
        (res) => {
          const status = res.statusCode ?? 0;
          this.noteStatus(status);
          const limit = this.opts.maxListBytes ?? MAX_LIST_BYTES;
          let size = 0;
          const fail = abandon(req, reject);
          res.on('data', (c: Buffer) => {
            if (fail.done) return;
            size += c.length;
            if (size > limit) return fail(new ResponseTooLargeError(`GET ${url.pathname}`, limit));
            try {
              onChunk(c, status);
            } catch (err) {
              fail(err as Error);
            }
          });
          res.on('end', () => {
            if (fail.done) return;
            this.opts.observe?.('GET', url.pathname, status);
            resolvePromise(status);
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`request to ${url.host} timed out`)));
      req.on('error', (err) => {
        this.opts.observe?.('GET', url.pathname, 0);
        reject(err);
      });
      req.end();
    });
  }

  /** Streams a watch: calls `onLine` for every JSON line until the server or `signal` ends it. */
  async watch(path: string, onLine: (line: string) => void, signal: AbortSignal): Promise<number> {
    const url = this.url(path);
    const headers: Record<string, string> = { accept: 'application/json' };
    const token = await this.authToken();
    if (token) headers['authorization'] = `Bearer ${token}`;
    return new Promise((resolvePromise, reject) => {
      const req = request(url, { method: 'GET', headers, agent: this.agent, signal }, (res) => {
        this.opts.observe?.('WATCH', url.pathname, res.statusCode ?? 0);
        this.noteStatus(res.statusCode ?? 0);
        // Split on the raw bytes (a newline byte never occurs inside a UTF-8 sequence), so the bound
        // counts bytes as sent and each chunk is scanned once, however long the line it continues.
        const pieces: Buffer[] = [];
        let pending = 0;
        const limit = this.opts.maxWatchLineBytes ?? MAX_WATCH_LINE_BYTES;
        const fail = abandon(req, reject);
        const tooLong = () => fail(new ResponseTooLargeError(`WATCH ${url.pathname}`, limit, 'one event'));
        res.on('data', (chunk: Buffer) => {
          if (fail.done) return;
          let from = 0;
          for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, from)) {
            if (pending + nl - from > limit) return tooLong();
            pieces.push(chunk.subarray(from, nl));
            const line = Buffer.concat(pieces).toString('utf8');
            pieces.length = 0;
            pending = 0;
            from = nl + 1;
            try {
              if (line.trim() !== '') onLine(line);
            } catch (err) {
              return fail(err as Error);
            }
          }
          pending += chunk.length - from;
          if (pending > limit) return tooLong();
          if (from < chunk.length) pieces.push(chunk.subarray(from));
        });
        res.on('end', () => {
          if (!fail.done) resolvePromise(res.statusCode ?? 0);
        });
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

/**
 * How a response handler gives up on its request: reject first, then destroy the request without
 * an error. An error handed to destroy() once the last chunk has arrived is emitted on a socket
 * that has gone back to the keep-alive agent, where nothing listens: an uncaught exception that
 * ends the daemon (an over-bound answer that arrives in one piece does exactly that).
 */
function abandon(
  req: ClientRequest,
  reject: (err: Error) => void,
): ((err: Error) => void) & { done: boolean } {
  const fail = Object.assign(
    (err: Error) => {
      if (fail.done) return;
      fail.done = true;
      reject(err);
      req.destroy();
    },
    { done: false },
  );
  return fail;
}

/** Retry-After as delta-seconds (the form the API server writes); an HTTP date is ignored. */
function parseRetryAfter(value: string | string[] | undefined): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || !/^\d{1,6}$/.test(v.trim())) return undefined;
  return Number(v.trim());
}

/** The fields of a metav1.Status answer that decide what a caller does next. */
export interface ApiStatus {
  reason: string;
  message: string;
  causes: { field: string; reason: string; message: string }[];
}

/** Reads a metav1.Status body; an answer that is not one gives empty fields. */
export function parseApiStatus(res: KubeResponse): ApiStatus {
  const out: ApiStatus = { reason: '', message: '', causes: [] };
  let doc: unknown;
  try {
    doc = JSON.parse(res.body);
  } catch {
    return out;
  }
  if (typeof doc !== 'object' || doc === null) return out;
  const st = doc as { reason?: unknown; message?: unknown; details?: { causes?: unknown } };
  if (typeof st.reason === 'string') out.reason = st.reason;
  if (typeof st.message === 'string') out.message = st.message;
  const causes = st.details?.causes;
  if (Array.isArray(causes))
    for (const c of causes as Record<string, unknown>[]) {
      if (typeof c !== 'object' || c === null) continue;
      const str = (k: string) => (typeof c[k] === 'string' ? (c[k] as string) : '');
      out.causes.push({ field: str('field'), reason: str('reason'), message: str('message') });
    }
  return out;
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
