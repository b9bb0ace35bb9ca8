// The HTTPS adapter with a real self-signed certificate (openssl): routes, bounds, the answers
// that make the API server apply the failurePolicy, and a certificate swap.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import type { TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../log/logger.ts';
import type { AdmissionRequest, Verdict } from './admission-review.ts';
import { MAX_REVIEW_MS, reviewDeadlineMs, WebhookServer } from './webhook-server.ts';

function selfSigned(dir: string, cn: string): { cert: Buffer; key: Buffer } {
  const cert = join(dir, `${cn}.crt`);
  const key = join(dir, `${cn}.key`);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
    ].concat(['-subj', `/CN=${cn}`, '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert]),
    { stdio: 'ignore' },
  );
  return { cert: readFileSync(cert), key: readFileSync(key) };
}

interface Answer {
  status: number;
  body: string;
  issuer: string;
}

function call(
  port: number,
  ca: Buffer,
  opts: { method?: string; path?: string; type?: string; body?: string | Buffer },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: opts.method ?? 'POST',
        path: opts.path ?? '/validate?timeout=5s',
        ca,
        agent: false,
        headers: opts.body !== undefined ? { 'content-type': opts.type ?? 'application/json' } : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const peer = (res.socket as TLSSocket).getPeerCertificate();
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString(),
            issuer: String(peer.subject?.CN ?? ''),
          });
        });
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

const review = JSON.stringify({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  request: { uid: 'u1', kind: { group: '', version: 'v1', kind: 'Pod' }, operation: 'CREATE', object: {} },
});

describe('WebhookServer', () => {
  let dir: string;
  let first: { cert: Buffer; key: Buffer };
  let server: WebhookServer;
  let verdict: (r: AdmissionRequest) => Promise<Verdict>;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mn-webhook-'));
    first = selfSigned(dir, 'first');
    server = new WebhookServer({
      host: '127.0.0.1',
      port: 0,
      tls: first,
      log: silentLogger,
      readiness: () => ({ ready: false, checks: { cache: { ok: false } } }),
      review: (r) => verdict(r),
      maxReviewBytes: 64 * 1024,
    });
    await server.listen();
  });
  after(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers a review with the verdict for its uid', async () => {
    verdict = async () => ({ allowed: false, problems: ['Pod ns/p: a: b'], warnings: [] });
    const a = await call(server.port, first.cert, { body: review });
    assert.equal(a.status, 200);
    const response = (JSON.parse(a.body) as { response: Record<string, unknown> }).response;
    assert.deepEqual(response, {
      uid: 'u1',
      allowed: false,
      status: { code: 403, reason: 'Forbidden', message: 'Pod ns/p: a: b' },
    });
  });

  it('anything but a verdict is not 200, so the failurePolicy decides', async () => {
    verdict = async () => {
      throw new Error('API server unreachable');
    };
    const cases: [Parameters<typeof call>[2], number][] = [
      [{ body: review }, 500],
      [{ body: '{' }, 400],
      [{ body: review, type: 'text/plain' }, 415],
      [{ body: Buffer.alloc(100 * 1024, 0x20) }, 413],
      [{ method: 'GET' }, 405],
      [{ path: '/other', body: review }, 404],
      [{ method: 'GET', path: '/readyz' }, 503],
      [{ method: 'GET', path: '/healthz' }, 200],
    ];
    for (const [opts, status] of cases) {
      const a = await call(server.port, first.cert, opts);
      assert.equal(a.status, status, `${JSON.stringify(opts).slice(0, 80)}: ${a.body}`);
    }
  });

  it('a review that outlives its deadline is aborted', async () => {
    let aborted: unknown;
    const slow = new WebhookServer({
      host: '127.0.0.1',
      port: 0,
      tls: first,
      log: silentLogger,
      readiness: () => ({ ready: true, checks: {} }),
      review: (_r, signal) =>
        new Promise((_resolve, reject) =>
          signal.addEventListener('abort', () => ((aborted = signal.reason), reject(signal.reason)), {
            once: true,
          }),
        ),
    });
    await slow.listen();
    try {
      const a = await call(slow.port, first.cert, { body: review, path: '/validate?timeout=200ms' });
      assert.equal(a.status, 500);
      assert.match(String(aborted), /review deadline passed/);
    } finally {
      await slow.close();
    }
  });

  it('serves a new certificate once set', async () => {
    const second = selfSigned(dir, 'second');
    assert.equal((await call(server.port, first.cert, { method: 'GET', path: '/healthz' })).issuer, 'first');
    server.setCertificate(second);
    assert.equal(
      (await call(server.port, second.cert, { method: 'GET', path: '/healthz' })).issuer,
      'second',
    );
  });

  it('takes the API server timeout, within bounds', () => {
    assert.equal(reviewDeadlineMs('/validate?timeout=5s'), 5_000);
    assert.equal(reviewDeadlineMs('/validate?timeout=250ms'), 250);
    assert.equal(reviewDeadlineMs('/validate?timeout=2m'), MAX_REVIEW_MS);
    assert.equal(reviewDeadlineMs('/validate'), MAX_REVIEW_MS);
    assert.equal(reviewDeadlineMs('/validate?timeout=soon'), MAX_REVIEW_MS);
  });
});
