import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server } from 'node:https';
import { createServer } from 'node:https';
import type { SecureContextOptions } from 'node:tls';
import type { Readiness } from '../daemon/health.ts';
import { serveHealth, writeJson } from '../daemon/health.ts';
import { BodyTooLargeError, readBody } from '../daemon/read-body.ts';
import type { Logger } from '../log/logger.ts';
import type { AdmissionRequest, Verdict } from './admission-review.ts';
import {
  AdmissionReviewError,
  MAX_REVIEW_BYTES,
  parseAdmissionReview,
  toAdmissionReview,
} from './admission-review.ts';

/** Where the ValidatingWebhookConfiguration sends reviews (its clientConfig path). */
export const REVIEW_PATH = '/validate';
/** Reviews answered at once; more get 503 (the API server then applies the failurePolicy). */
export const MAX_IN_FLIGHT = 64;
/** The API server keeps a few connections open; nobody else should need many. */
export const MAX_CONNECTIONS = 256;
/** A review takes the API server's `timeout` (its timeoutSeconds) at most, and never more than this. */
export const MAX_REVIEW_MS = 10_000;

export interface WebhookServerOptions {
  host: string;
  port: number;
  tls: Pick<SecureContextOptions, 'cert' | 'key'>;
  review(request: AdmissionRequest, signal: AbortSignal): Promise<Verdict>;
  readiness(): Readiness;
  log: Logger;
  maxReviewBytes?: number;
}

/**
 * The API server's `?timeout=5s` (it appends the webhook's timeoutSeconds): how long a review
 * may take before nobody waits for its answer.
 */
export function reviewDeadlineMs(url: string | undefined): number {
  const raw = new URL(url ?? '/', 'https://webhook').searchParams.get('timeout');
  const m = raw ? /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(raw) : null;
  if (!m) return MAX_REVIEW_MS;
  const ms = Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 's' ? 1000 : 60_000);
  return Math.max(1, Math.min(ms, MAX_REVIEW_MS));
}

/**
 * The admission webhook over HTTPS (node:https): POST /validate takes an admission.k8s.io/v1
 * AdmissionReview and answers one; GET /healthz and /readyz for the probes. Bounded: the body
 * (MAX_REVIEW_BYTES), the headers (5 s), the request (15 s), reviews in flight and connections.
 * Any answer other than 200 makes the API server apply the webhook's failurePolicy.
 */
export class WebhookServer {
  private server: Server | undefined;
  private inFlight = 0;

  constructor(private readonly opts: WebhookServerOptions) {}

  get port(): number {
    const addr = this.server?.address();
    return typeof addr === 'object' && addr ? addr.port : 0;
  }

  /** Swaps the serving certificate (a renewed Secret) for new connections. */
  setCertificate(tls: Pick<SecureContextOptions, 'cert' | 'key'>): void {
    this.server?.setSecureContext({ ...tls, minVersion: 'TLSv1.2' });
  }

  async listen(): Promise<void> {
    const server = createServer(
      {
        ...this.opts.tls,
        minVersion: 'TLSv1.2',
        headersTimeout: 5_000,
        requestTimeout: 15_000,
        connectionsCheckingInterval: 1_000,
      },
      (req, res) => this.handle(req, res),
    );
    server.maxConnections = MAX_CONNECTIONS;
    server.keepAliveTimeout = 30_000;
    server.timeout = 30_000;
    // A handshake that fails (a client that does not trust our CA) is the client's problem.
    server.on('tlsClientError', (err) => this.opts.log.debug({ err: err.message }, 'TLS handshake failed'));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.opts.log.warn({ err: err.message }, 'webhook listener error'));
    this.server = server;
    this.opts.log.info({ address: `${this.opts.host}:${this.port}` }, 'webhook listening');
  }

  close(): Promise<void> {
    const server = this.server;
    if (!server?.listening) return Promise.resolve();
    return new Promise((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
      // In-flight reviews are short (MAX_REVIEW_MS); what is left after that goes.
      setTimeout(() => server.closeAllConnections(), MAX_REVIEW_MS).unref();
    });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    if (serveHealth(req.method, req.url, res, this.opts.readiness)) return;
    const path = (req.url ?? '').split('?')[0];
    if (path !== REVIEW_PATH) return writeJson(res, 404, { error: 'not found' });
    if (req.method !== 'POST') return writeJson(res, 405, { error: 'POST an AdmissionReview' });
    const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim();
    if (type !== 'application/json') return writeJson(res, 415, { error: 'expected application/json' });
    const limit = this.opts.maxReviewBytes ?? MAX_REVIEW_BYTES;
    if (Number(req.headers['content-length'] ?? 0) > limit) {
      // Said up front: answered without reading a byte (the connection cannot be reused).
      res.setHeader('connection', 'close');
      return writeJson(res, 413, { error: `the review is over ${limit} bytes` });
    }
    if (this.inFlight >= MAX_IN_FLIGHT) return writeJson(res, 503, { error: 'too many reviews in flight' });
    this.inFlight++;
    const abort = new AbortController();
    const timer = setTimeout(
      () => abort.abort(new Error('review deadline passed')),
      reviewDeadlineMs(req.url),
    );
    res.on('close', () => abort.abort(new Error('the API server closed the connection')));
    this.review(req, res, limit, abort.signal).finally(() => {
      clearTimeout(timer);
      this.inFlight--;
    });
  }

  private async review(
    req: IncomingMessage,
    res: ServerResponse,
    limit: number,
    signal: AbortSignal,
  ): Promise<void> {
    const { log } = this.opts;
    let request: AdmissionRequest;
    try {
      // Without a length, a body that grows past the limit ends the connection (readBody).
      request = parseAdmissionReview(await readBody(req, limit), limit);
    } catch (err) {
      if (err instanceof BodyTooLargeError) return writeJson(res, 413, { error: err.message });
      if (err instanceof AdmissionReviewError) return writeJson(res, 400, { error: err.message });
      return writeJson(res, 400, { error: `cannot read the request: ${String(err)}` });
    }
    try {
      const verdict = await this.opts.review(request, signal);
      const who = {
        uid: request.uid,
        kind: request.kind.kind,
        operation: request.operation,
        namespace: request.namespace,
        name: request.name,
      };
      if (verdict.allowed) log.debug(who, 'admitted');
      else log.info({ ...who, problems: verdict.problems.length, first: verdict.problems[0] }, 'refused');
      if (!res.writableEnded) writeJson(res, 200, toAdmissionReview(request.uid, verdict));
    } catch (err) {
      // Not a verdict (the API could not be read, or time ran out): failurePolicy decides.
      const reason = err instanceof Error ? err.message : String(err);
      log.warn({ uid: request.uid, kind: request.kind.kind, err: reason }, 'review failed');
      if (!res.writableEnded) writeJson(res, 500, { error: reason });
    }
  }
}
