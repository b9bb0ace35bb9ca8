/**
 * The Kubernetes client on its own, against a local HTTPS server (real TLS with a throw-away CA,
 * real node:https on both sides). The server is scripted: each test says what the API answers,
 * which is how token rotation, 401, silent and short watches, 410 and 429 are reached on purpose.
 * The e2e suite runs the same client against a real kube-apiserver.
 */
import assert from 'node:assert/strict';
import { readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createPki, type Pki } from '../../test/support/control-plane-pki.ts';
import { silentLogger } from '../log/logger.ts';
import { Informer } from './informer.ts';
import { KubeRestClient } from './kube-rest-client.ts';
import type { KubeConnection } from './kubeconfig.ts';
import { KubernetesClusterView } from './kubernetes-cluster-view.ts';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

let dir: string;
let pki: Pki;
let server: Server;
let port: number;
let handler: Handler = (_req, res) => res.writeHead(500).end();
const seen: { method: string; url: string; auth: string }[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mn-kube-client-'));
  pki = await createPki(join(dir, 'pki'));
  server = createServer(
    { cert: readFileSync(pki.servingCert), key: readFileSync(pki.servingKey) },
    (req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', auth: req.headers.authorization ?? '' });
        handler(req, res, body);
      });
    },
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await rm(dir, { recursive: true, force: true });
});

function connection(extra: Partial<KubeConnection> = {}): KubeConnection {
  return {
    server: `https://127.0.0.1:${port}`,
    ca: readFileSync(pki.caCert),
    insecureSkipTlsVerify: false,
    ...extra,
  };
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) =>
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
const status = (code: number, reason: string, message: string, causes?: unknown[]) => ({
  kind: 'Status',
  apiVersion: 'v1',
  status: 'Failure',
  code,
  reason,
  message,
  ...(causes ? { details: { causes } } : {}),
});
const pod = (name: string, rv: string) => ({
  metadata: { namespace: 'ns', name, uid: `uid-${name}`, resourceVersion: rv },
});

describe('KubeRestClient against a local HTTPS server', () => {
  it('follows a rotated token file, and re-reads it on a 401', async () => {
    const tokenFile = join(dir, 'token');
    await writeFile(tokenFile, 'tok-1\n');
    let valid = 'tok-1';
    handler = (req, res) =>
      req.headers.authorization === `Bearer ${valid}`
        ? json(res, 200, pod('a', '1'))
        : json(res, 401, status(401, 'Unauthorized', 'Unauthorized'));
    const client = new KubeRestClient(connection({ tokenFile }));
    try {
      const view = new KubernetesClusterView(client);
      assert.equal((await view.getPod('ns', 'a'))?.uid, 'uid-a');
      valid = 'tok-2';
      await writeFile(tokenFile, 'tok-2\n');
      seen.length = 0;
      assert.equal((await view.getPod('ns', 'a'))?.uid, 'uid-a', 'the rotated token is used');
      assert.ok(seen.some((s) => s.auth === 'Bearer tok-2'));
      valid = 'tok-3'; // the server moved on and the file did not: a clear 401, not a hang
      await assert.rejects(view.getPod('ns', 'a'), /HTTP 401: Unauthorized/);
    } finally {
      client.close();
    }
  });

  it('authenticates with an exec credential plugin, and runs it again on a 401', async () => {
    // A real plugin (a shell script) run as kubectl would: it prints an ExecCredential.
    const plugin = join(dir, 'get-token');
    const counter = join(dir, 'get-token.count');
    await writeFile(counter, '');
    await writeFile(
      plugin,
      `#!/bin/sh\necho x >> ${counter}\nn=$(wc -l < ${counter})\n` +
        `echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"exec-'$n'"}}'\n`,
      { mode: 0o755 },
    );
    let valid = 'exec-1';
    handler = (req, res) =>
      req.headers.authorization === `Bearer ${valid}`
        ? json(res, 200, pod('a', '1'))
        : json(res, 401, status(401, 'Unauthorized', 'Unauthorized'));
    const exec = { apiVersion: 'client.authentication.k8s.io/v1', command: plugin, args: [], env: [] };
    const client = new KubeRestClient(connection({ exec }));
    try {
      const view = new KubernetesClusterView(client);
      assert.equal((await view.getPod('ns', 'a'))?.uid, 'uid-a');
      assert.equal((await view.getPod('ns', 'a'))?.uid, 'uid-a');
      assert.equal(
        readFileSync(counter, 'utf8').split('\n').filter(Boolean).length,
        1,
        'the token is cached',
      );
      valid = 'exec-2'; // revoked: the 401 makes the client run the plugin again
      assert.equal((await view.getPod('ns', 'a'))?.uid, 'uid-a');
    } finally {
      client.close();
    }
  });

  it('refuses an answer larger than its bound', async () => {
    handler = (_req, res) => json(res, 200, { items: ['x'.repeat(64 * 1024)] });
    const client = new KubeRestClient(connection(), { maxResponseBytes: 16 * 1024 });
    try {
      await assert.rejects(client.request('GET', '/api/v1/pods'), /exceeds 16384 bytes/);
    } finally {
      client.close();
    }
  });

  it('an over-bound answer that arrives in one piece is an error, not an uncaught exception', async () => {
    // 4 KiB sent at once arrives as one TLS record: the bound is crossed by the last chunk, after
    // which an error given to req.destroy() would be emitted where nothing listens.
    handler = (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('x'.repeat(4096));
    const client = new KubeRestClient(connection(), { maxResponseBytes: 1024, maxWatchLineBytes: 1024 });
    try {
      await assert.rejects(
        client.request('GET', '/api/v1/pods'),
        /GET \/api\/v1\/pods: the answer exceeds 1024/,
      );
      const refuse = () => {
        throw new Error('not a list');
      };
      await assert.rejects(client.stream('/api/v1/pods', refuse), /not a list/);
      const watch = client.watch('/api/v1/pods?watch=1', () => undefined, new AbortController().signal);
      await assert.rejects(watch, /WATCH \/api\/v1\/pods: one event exceeds 1024/);
      // The process is still here; give a stray error a turn to surface as a failure of this test.
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      client.close();
    }
  });

  it('refuses a streamed LIST page larger than its bound, naming the path', async () => {
    handler = (_req, res) => json(res, 200, { items: ['x'.repeat(64 * 1024)] });
    const client = new KubeRestClient(connection(), { maxListBytes: 16 * 1024 });
    try {
      let received = 0;
      await assert.rejects(
        client.stream('/api/v1/pods?limit=500', (c) => void (received += c.length)),
        /GET \/api\/v1\/pods: the answer exceeds 16384 bytes/,
      );
      assert.ok(received <= 16 * 1024, `no more than the bound was handed over: ${received}`);
    } finally {
      client.close();
    }
  });

  it('splits watch lines on bytes: a character cut between chunks survives, the bound counts bytes', async () => {
    const ev = (name: string) => `${JSON.stringify({ type: 'ADDED', object: { metadata: { name } } })}\n`;
    const first = Buffer.from(ev('café') + ev('x'));
    const cut = first.indexOf(Buffer.from('é')) + 1; // between the two bytes of é
    const later = (ms: number) => new Promise((r) => setTimeout(r, ms));
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(first.subarray(0, cut));
      void later(20)
        .then(() => res.write(first.subarray(cut)))
        .then(() => later(20))
        // 600 characters, 1200 bytes: over a 1000-byte bound however the characters are counted.
        .then(() => res.end(ev('é'.repeat(600))));
    };
    const client = new KubeRestClient(connection(), { maxWatchLineBytes: 1000 });
    try {
      const names: string[] = [];
      const onLine = (l: string) =>
        void names.push((JSON.parse(l) as { object: { metadata: { name: string } } }).object.metadata.name);
      await assert.rejects(
        client.watch('/api/v1/pods?watch=1', onLine, new AbortController().signal),
        /WATCH \/api\/v1\/pods: one event exceeds 1000 bytes/,
      );
      assert.deepEqual(names, ['café', 'x']);
      // A callback that throws fails the watch, not the process.
      const throwing = () => {
        throw new Error('bad transform');
      };
      await assert.rejects(
        client.watch('/api/v1/pods?watch=1', throwing, new AbortController().signal),
        /bad transform/,
      );
    } finally {
      client.close();
    }
  });

  it('keeps the path of a server URL as a prefix (a proxy serving several clusters)', async () => {
    handler = (_req, res) => json(res, 200, pod('a', '1'));
    const client = new KubeRestClient(connection({ server: `https://127.0.0.1:${port}/k8s/clusters/c-1/` }));
    try {
      seen.length = 0;
      assert.equal((await client.request('GET', '/api/v1/namespaces/ns/pods/a')).status, 200);
      await client.stream('/api/v1/pods?limit=1', () => undefined);
      await client.watch('/api/v1/pods?watch=1', () => undefined, new AbortController().signal);
      assert.deepEqual(
        seen.map((s) => s.url),
        [
          '/k8s/clusters/c-1/api/v1/namespaces/ns/pods/a',
          '/k8s/clusters/c-1/api/v1/pods?limit=1',
          '/k8s/clusters/c-1/api/v1/pods?watch=1',
        ],
      );
    } finally {
      client.close();
    }
  });

  it('checks the server certificate against tls-server-name', async () => {
    handler = (_req, res) => json(res, 200, pod('a', '1'));
    const good = new KubeRestClient(connection({ tlsServerName: 'kubernetes.default.svc' }));
    const bad = new KubeRestClient(connection({ tlsServerName: 'not-the-api.example' }));
    try {
      assert.equal((await good.request('GET', '/api/v1/namespaces/ns/pods/a')).status, 200);
      await assert.rejects(bad.request('GET', '/api/v1/namespaces/ns/pods/a'), /not-the-api\.example/);
    } finally {
      good.close();
      bad.close();
    }
  });

  it('presents the client certificate of the kubeconfig on every connection', async () => {
    // A server that asks for a client certificate signed by the CA, as kube-apiserver does for x509 users.
    const mtls = createServer(
      {
        cert: readFileSync(pki.servingCert),
        key: readFileSync(pki.servingKey),
        ca: readFileSync(pki.caCert),
        requestCert: true,
        rejectUnauthorized: false,
      },
      (req, res) => {
        const peer = (req.socket as TLSSocket).getPeerCertificate();
        const cn = (req.socket as TLSSocket).authorized ? peer.subject?.CN : undefined;
        json(res, cn ? 200 : 401, { user: cn ?? null });
      },
    );
    await new Promise<void>((r) => mtls.listen(0, '127.0.0.1', r));
    const at = `https://127.0.0.1:${(mtls.address() as AddressInfo).port}`;
    const withCert = new KubeRestClient(
      connection({ server: at, cert: readFileSync(pki.adminCert), key: readFileSync(pki.adminKey) }),
      { keepAlive: false },
    );
    const without = new KubeRestClient(connection({ server: at }));
    try {
      // Three requests without keep-alive: three connections, each with the certificate.
      for (let i = 0; i < 3; i++) {
        const res = await withCert.request('GET', '/api/v1/namespaces/ns/pods/a');
        assert.equal(res.status, 200, res.body);
        assert.ok(JSON.parse(res.body).user, res.body);
      }
      assert.equal((await without.request('GET', '/api/v1/namespaces/ns/pods/a')).status, 401);
    } finally {
      withCert.close();
      without.close();
      mtls.closeAllConnections();
      await new Promise((r) => mtls.close(r));
    }
  });
});

describe('status PATCH retries', () => {
  const ref = { namespace: 'ns', name: 'a', uid: 'uid-a' };

  it('honours Retry-After on 429, backs off with jitter on 5xx, then succeeds', async () => {
    const answers: ((res: ServerResponse) => void)[] = [
      (res) => json(res, 429, status(429, 'TooManyRequests', 'slow down'), { 'retry-after': '2' }),
      (res) => json(res, 503, status(503, 'ServiceUnavailable', 'etcd leader changed')),
      (res) => json(res, 200, pod('a', '2')),
    ];
    handler = (_req, res) => answers.shift()!(res);
    const delays: number[] = [];
    const client = new KubeRestClient(connection());
    try {
      const view = new KubernetesClusterView(client, { sleep: async (ms) => void delays.push(ms) });
      await view.writeNetworkStatus(ref, '[]');
      assert.equal(answers.length, 0, 'three attempts');
      assert.equal(delays[0], 2000, 'Retry-After: 2');
      assert.ok(delays[1]! >= 200 && delays[1]! <= 500, `second backoff jittered: ${delays[1]}`);
    } finally {
      client.close();
    }
  });

  it('bounds Retry-After, and gives up on a conflict after five jittered attempts', async () => {
    const delays: number[] = [];
    const client = new KubeRestClient(connection());
    try {
      const view = new KubernetesClusterView(client, { sleep: async (ms) => void delays.push(ms) });
      let answers = 0;
      handler = (_req, res) =>
        ++answers === 1
          ? json(res, 429, status(429, 'TooManyRequests', 'slow down'), { 'retry-after': '3600' })
          : json(res, 200, pod('a', '2'));
      await view.writeNetworkStatus(ref, '[]');
      assert.deepEqual(delays, [5000], 'an hour asked, five seconds waited: ADD runs under the CNI timeout');
      delays.length = 0;
      answers = 0;
      handler = (_req, res) => {
        answers++;
        json(res, 409, status(409, 'Conflict', 'the object has been modified'));
      };
      await assert.rejects(view.writeNetworkStatus(ref, '[]'), /HTTP 409: the object has been modified/);
      assert.equal(answers, 5);
      assert.equal(delays.length, 4);
      delays.forEach((d, i) => {
        const base = 200 * 2 ** i;
        assert.ok(d >= base * 0.75 && d <= base * 1.25, `attempt ${i + 1} waited ${d} ms, ${base} ± 25 %`);
      });
    } finally {
      client.close();
    }
  });

  it('decides on Status.reason and details.causes, not on the word "uid" in the body', async () => {
    const client = new KubeRestClient(connection());
    try {
      const view = new KubernetesClusterView(client, { sleep: async () => {} });
      handler = (_req, res) =>
        json(
          res,
          422,
          status(422, 'Invalid', 'Pod "a" is invalid: metadata.uid: field is immutable', [
            { type: 'FieldValueInvalid', field: 'metadata.uid', message: 'field is immutable' },
          ]),
        );
      await assert.rejects(view.writeNetworkStatus(ref, '[]'), /re-created/);
      // A refusal that merely mentions a UID in its text is reported as what it is.
      handler = (_req, res) =>
        json(
          res,
          422,
          status(422, 'Invalid', 'annotation value for uid-a too long', [{ field: 'metadata.annotations' }]),
        );
      await assert.rejects(view.writeNetworkStatus(ref, '[]'), (err: Error) => {
        assert.doesNotMatch(err.message, /re-created/);
        assert.match(err.message, /too long/);
        return true;
      });
    } finally {
      client.close();
    }
  });
});

describe('Informer against a local HTTPS server', () => {
  /** Lists and watches scripted in order; unscripted watches stay open (silent) until aborted. */
  function script(lists: ((res: ServerResponse) => void)[], watches: ((res: ServerResponse) => void)[]) {
    handler = (req, res) => {
      const isWatch = new URL(req.url ?? '', 'https://x').searchParams.get('watch') === '1';
      const next = (isWatch ? watches : lists).shift();
      if (next) next(res);
      else if (isWatch) res.writeHead(200, { 'content-type': 'application/json' }).flushHeaders();
      else json(res, 500, status(500, 'InternalError', 'unscripted list'));
    };
  }
  const listOf =
    (rv: string, ...items: unknown[]) =>
    (res: ServerResponse) =>
      json(res, 200, { metadata: { resourceVersion: rv }, items });
  const events =
    (...lines: unknown[]) =>
    (res: ServerResponse) =>
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(lines.map((l) => `${JSON.stringify(l)}\n`).join(''));

  async function run(
    opts: Partial<ConstructorParameters<typeof Informer>[1]>,
    until: () => boolean,
    clientOpts: ConstructorParameters<typeof KubeRestClient>[1] = {},
    conn: Partial<KubeConnection> = {},
  ) {
    const client = new KubeRestClient(connection(conn), clientOpts);
    const stop = new AbortController();
    const sleeps: number[] = [];
    const inf = new Informer(client, {
      resource: 'pods',
      path: '/api/v1/pods',
      transform: (o) => o,
      log: silentLogger,
      backoffInitialMs: 20,
      sleep: async (ms) => void sleeps.push(ms),
      ...opts,
    });
    const done = inf.start(stop.signal);
    // Wait on the condition (each step is one HTTPS round trip); the deadline only turns a hang
    // into a failure, it is not a timing assertion.
    const deadline = Date.now() + 20_000;
    try {
      while (!until()) {
        if (Date.now() > deadline)
          throw new Error(`condition not reached; requests: ${seen.map((x) => x.url).join(' ')}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    } finally {
      stop.abort();
      await done;
      client.close();
    }
    return { inf, sleeps };
  }
  const watchUrls = () => seen.filter((s) => s.url.includes('watch=1')).map((s) => s.url);
  const listUrls = () => seen.filter((s) => !s.url.includes('watch=1')).map((s) => s.url);

  it('re-lists after a 410 answered by status and after a 410 ERROR event', async () => {
    seen.length = 0;
    script(
      [listOf('10', pod('a', '3')), listOf('20', pod('b', '15')), listOf('30', pod('c', '25'))],
      [
        (res) => json(res, 410, status(410, 'Expired', 'too old resource version: 10 (15)')),
        events(
          { type: 'ADDED', object: pod('x', '21') },
          { type: 'ERROR', object: status(410, 'Expired', 'too old') },
        ),
      ],
    );
    const { inf } = await run({}, () => watchUrls().length >= 3);
    assert.equal(listUrls().length, 3, 'one list, then one per 410');
    assert.match(watchUrls()[2]!, /resourceVersion=30/);
    assert.ok(inf.get('ns', 'c') && !inf.get('ns', 'x') && !inf.get('ns', 'a'), 'the store is the last list');
  });

  it('backs off on a server that ends every watch at once (no hot loop)', async () => {
    seen.length = 0;
    const empty = (res: ServerResponse) => res.writeHead(200, { 'content-type': 'application/json' }).end();
    script([listOf('5')], [empty, empty, empty, empty]);
    const { sleeps } = await run({}, () => watchUrls().length >= 5);
    assert.equal(sleeps.length, 4, `one backoff per short watch: ${sleeps.join(', ')}`);
    assert.ok(sleeps[3]! > sleeps[0]! * 4, `the backoff grows: ${sleeps.join(', ')}`);
  });

  it('re-opens a watch the server ends at once only a few times in a window (real clock)', async () => {
    seen.length = 0;
    handler = (req, res) =>
      new URL(req.url ?? '', 'https://x').searchParams.get('watch') === '1'
        ? res.writeHead(200, { 'content-type': 'application/json' }).end()
        : json(res, 200, { metadata: { resourceVersion: '5' }, items: [] });
    const started = Date.now();
    // The informer's own sleep: backoff 50, 100, 200, 400, 800 ms (± 20 %) from the first re-open.
    await run({ sleep: undefined, backoffInitialMs: 50 }, () => Date.now() - started > 1500);
    const opened = watchUrls().length;
    assert.ok(opened >= 2 && opened <= 8, `${opened} watches in 1.5 s (a hot loop opens hundreds)`);
  });

  it('asks again in smaller pages when a LIST page is over the bound', async () => {
    seen.length = 0;
    // Eight objects of about 3 KiB each; the server pages them as kube-apiserver does.
    const items = Array.from({ length: 8 }, (_, i) => ({
      ...pod(`p${i}`, '1'),
      data: 'x'.repeat(3 * 1024),
    }));
    handler = (req, res) => {
      const q = new URL(req.url ?? '', 'https://x').searchParams;
      if (q.get('watch') === '1')
        return void res.writeHead(200, { 'content-type': 'application/json' }).flushHeaders();
      const from = Number(q.get('continue') ?? 0);
      const to = from + Number(q.get('limit'));
      const cont = to < items.length ? String(to) : '';
      json(res, 200, { metadata: { resourceVersion: '9', continue: cont }, items: items.slice(from, to) });
    };
    const { inf } = await run({ pageSize: 8 }, () => watchUrls().length >= 1, {
      maxListBytes: 10 * 1024,
    });
    assert.equal(inf.size, 8);
    assert.deepEqual(
      listUrls().map((u) => new URL(u, 'https://x').searchParams.get('limit')),
      ['8', '4', '2', '2', '2', '2'],
      'halved until a page fits, then kept for the rest of the list',
    );
  });

  it('re-reads a rotated token file after a 401 on a watch and on a list, even with the same mtime', async () => {
    seen.length = 0;
    // The file is rewritten with its old mtime (a copy that kept it, a change within the clock's
    // resolution): only the 401 tells the client that its token is stale.
    const tokenFile = join(dir, 'informer-token');
    const rotate = (token: string) => {
      writeFileSync(tokenFile, `${token}\n`);
      utimesSync(tokenFile, 1000, 1000);
      valid = token;
    };
    let valid = '';
    rotate('tok-1');
    handler = (req, res) => {
      const isWatch = new URL(req.url ?? '', 'https://x').searchParams.get('watch') === '1';
      if (req.headers.authorization !== `Bearer ${valid}`)
        return json(res, 401, status(401, 'Unauthorized', 'Unauthorized'));
      if (!isWatch) {
        if (valid === 'tok-1') rotate('tok-2'); // the watch that follows is refused
        return json(res, 200, { metadata: { resourceVersion: '5' }, items: [pod('a', '5')] });
      }
      if (valid === 'tok-2') {
        rotate('tok-3'); // the re-list that follows is refused
        return json(res, 410, status(410, 'Expired', 'too old resource version'));
      }
      res.writeHead(200, { 'content-type': 'application/json' }).flushHeaders();
    };
    await run(
      {},
      () => seen.some((s) => s.url.includes('watch=1') && s.auth === 'Bearer tok-3'),
      {},
      { tokenFile },
    );
    const auths = seen.map((s) => `${s.url.includes('watch=1') ? 'watch' : 'list'} ${s.auth.slice(7)}`);
    assert.deepEqual(auths, [
      'list tok-1',
      'watch tok-1', // 401
      'watch tok-2', // 410
      'list tok-2', // 401
      'list tok-3',
      'watch tok-3',
    ]);
  });

  it('gives up on a silent watch and watches again from the same version', async () => {
    seen.length = 0;
    script([listOf('7', pod('a', '7'))], []);
    await run({ watchTimeoutSeconds: 0, silenceSlackMs: 200 }, () => watchUrls().length >= 2);
    assert.equal(listUrls().length, 1, 'no re-list for silence');
    for (const url of watchUrls()) assert.match(url, /resourceVersion=7/);
  });
});
