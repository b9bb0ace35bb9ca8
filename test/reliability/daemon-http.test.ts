/**
 * The daemon's socket under bad input, against the real daemon: malformed and random bodies
 * (fast-check), oversized bodies, wrong methods, paths and content types, and slow clients
 * (slowloris: headers or body a byte at a time). Every answer must be a typed error with the
 * right CNI code, nothing may change on the node, slow clients must be cut off, and real pods
 * must keep being served meanwhile.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import net from 'node:net';
import { describe } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { FORWARDED_ENV } from '../../src/wire/daemon-wire.ts';
import { fuzzCounter, record, recordLeaks, scenario } from '../support/fault-report.ts';
import { waitFor } from '../integration/daemon-harness.ts';
import { bridgeNet, FaultScene, leakList, NOTHING } from '../support/fault-scene.ts';

interface Answer {
  status: number;
  body: string;
  ms: number;
}

function post(
  socketPath: string,
  body: string | Buffer,
  opts: { method?: string; path?: string; contentType?: string | null } = {},
): Promise<Answer> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { 'content-length': Buffer.byteLength(body) };
    if (opts.contentType !== null) headers['content-type'] = opts.contentType ?? 'application/json';
    const req = request(
      { socketPath, path: opts.path ?? '/cni', method: opts.method ?? 'POST', headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            ms: Date.now() - t0,
          }),
        );
        res.on('error', reject);
      },
    );
    req.setTimeout(15_000, () => req.destroy(new Error('no answer within 15 s')));
    req.on('error', (err) => {
      // A server may answer 413 and close before the whole body was sent.
      if (
        (err as NodeJS.ErrnoException).code === 'EPIPE' ||
        (err as NodeJS.ErrnoException).code === 'ECONNRESET'
      )
        resolve({ status: -1, body: '', ms: Date.now() - t0 });
      else reject(err);
    });
    req.end(body);
  });
}

/** The CNI error inside a daemon answer (`{exitCode, stdout}`), if there is one. */
function cniErrorOf(a: Answer): { code: number; msg: string } | undefined {
  let outer: { exitCode?: unknown; stdout?: unknown };
  try {
    outer = JSON.parse(a.body) as typeof outer;
  } catch {
    assert.fail(`not JSON (HTTP ${a.status}): ${a.body.slice(0, 200)}`);
  }
  if (typeof outer.stdout !== 'string' || outer.exitCode === 0) return undefined;
  const e = JSON.parse(outer.stdout) as { code?: unknown; msg?: unknown };
  assert.ok(Number.isInteger(e.code), `no integer code: ${outer.stdout}`);
  assert.ok(typeof e.msg === 'string' && e.msg !== '', `no message: ${outer.stdout}`);
  return { code: e.code as number, msg: e.msg as string };
}

const ids = fc.oneof(
  fc.constantFrom('', 'c1', 'fuzz-ctr', '../../etc', 'a/b', '-x', 'x'.repeat(300)),
  fc.string({ maxLength: 20 }),
);
/** Never a real namespace: empty, a path that does not exist, or not a path. */
const netns = fc.oneof(
  fc.constantFrom('', '/nonexistent/netns', '/run/netns/mn-fuzz-none'),
  fc.string({ maxLength: 20 }),
);
const command = fc.oneof(
  fc.constantFrom('ADD', 'DEL', 'CHECK', 'GC', 'STATUS', 'VERSION', '', 'add', 'BOGUS'),
  fc.string({ maxLength: 8 }),
);
const envValue = fc.oneof(fc.string({ maxLength: 40 }), fc.integer(), fc.constant(null), fc.boolean());
const envArb = fc.oneof(
  fc.record(
    {
      CNI_COMMAND: command,
      CNI_CONTAINERID: ids,
      CNI_NETNS: netns,
      CNI_IFNAME: fc.oneof(
        fc.constantFrom('eth0', '', 'x'.repeat(16), 'a b', 'a/b', '..'),
        fc.string({ maxLength: 18 }),
      ),
      CNI_ARGS: fc.oneof(
        fc.constantFrom('', 'K8S_POD_NAME=p;K8S_POD_NAMESPACE=default', 'a=b=c', ';;', '=x'),
        fc.string(),
      ),
      CNI_PATH: fc.constantFrom('/usr/lib/cni', '', 'relative:dirs'),
    },
    { requiredKeys: [] },
  ),
  fc.dictionary(fc.constantFrom(...FORWARDED_ENV, 'PATH', 'X'), envValue),
  fc.anything(),
);
const configArb = fc.oneof(
  fc.string(),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc
    .record(
      {
        cniVersion: fc.constantFrom('1.0.0', '0.4.0', '0.3.1', '9.9.9', '', '1.0'),
        name: fc.oneof(fc.constant('multinet'), fc.string({ maxLength: 10 })),
        type: fc.constantFrom('multinet-shim', 'x'),
        plugins: fc.constantFrom(undefined, [], [{ type: 'multinet-shim' }], 'nope'),
      },
      { requiredKeys: [] },
    )
    .map((v) => JSON.stringify(v)),
  fc.integer(),
);
const bodyArb = fc.oneof(
  fc.string(),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.record({ env: envArb, config: configArb }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
);

/** Request bodies to try (the soak, `npm run soak --fuzz N`, raises it). */
const FUZZ_RUNS = Number(process.env['MULTINET_FUZZ_RUNS'] ?? 300);

describe(
  'the daemon socket under bad input and slow clients',
  // 50 ms per request body is a wide bound on a shared machine.
  { timeout: 180_000 + FUZZ_RUNS * 50 },
  () => {
    scenario(
      'fast-check: random and malformed requests get typed CNI errors and change nothing',
      async (t) => {
        const s = await FaultScene.create(t, (topo) => ({
          primary: bridgeNet(topo, 'podnet', '10.120.0.0/24', 'mnh0'),
          bridges: ['mnh0'],
        }));
        await s.start();
        const socket = s.setup.socketPath;
        // Valid requests with one or two fields spoiled, so that fuzzing also reaches the engine.
        const base = {
          CNI_COMMAND: 'DEL',
          CNI_CONTAINERID: 'fuzz-ctr',
          CNI_NETNS: '/nonexistent/netns',
          CNI_IFNAME: 'eth0',
          CNI_PATH: '/usr/lib/cni',
          CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=fuzz',
        };
        const conf = s.shimConf;
        const nearValid = fc
          .tuple(
            fc.constantFrom('DEL', 'CHECK', 'STATUS', 'GC', 'VERSION'),
            fc.array(
              fc.oneof(
                fc.record({ env: fc.constantFrom(...Object.keys(base)), value: envValue }),
                fc.record({
                  conf: fc.constantFrom(
                    'cniVersion',
                    'name',
                    'plugins',
                    'runtimeConfig',
                    'cni.dev/valid-attachments',
                  ),
                  value: fc.jsonValue({ maxDepth: 3 }),
                }),
              ),
              { maxLength: 2 },
            ),
          )
          .map(([command, spoils]) => {
            const env: Record<string, unknown> = { ...base, CNI_COMMAND: command };
            const config: Record<string, unknown> = { ...conf };
            for (const sp of spoils) {
              if ('env' in sp) env[sp.env] = sp.value === 'ADD' ? 'add' : sp.value;
              else config[sp.conf] = sp.value;
            }
            return JSON.stringify({ env, config: JSON.stringify(config) });
          });
        const counter = fuzzCounter('daemon socket: request bodies');
        const codes = new Map<string, number>();
        await fc.assert(
          fc.asyncProperty(fc.oneof(bodyArb, nearValid), async (body) => {
            counter.count();
            const a = await post(socket, body);
            assert.ok(
              [200, 400, 503].includes(a.status),
              `HTTP ${a.status} for ${body.slice(0, 200)}: ${a.body}`,
            );
            const e = cniErrorOf(a);
            const key = e ? String(e.code) : 'ok';
            codes.set(key, (codes.get(key) ?? 0) + 1);
            if (e) assert.notEqual(e.code, 999, `internal error for ${body.slice(0, 300)}: ${a.body}`);
          }),
          { numRuns: FUZZ_RUNS },
        );
        counter.done();
        record({
          kind: 'note',
          scenario: 'daemon socket fuzz',
          text: `CNI codes seen: ${JSON.stringify(Object.fromEntries(codes))}`,
        });

        const exact = async (body: string, status: number, code: number, what: RegExp, opts = {}) => {
          const a = await post(socket, body, opts);
          assert.equal(a.status, status, `${body.slice(0, 80)}: ${a.body}`);
          const e = cniErrorOf(a);
          assert.equal(e?.code, code, a.body);
          const said = JSON.parse((JSON.parse(a.body) as { stdout: string }).stdout) as {
            msg: string;
            details?: string;
          };
          assert.match(`${said.msg} ${said.details ?? ''}`, what);
        };
        await exact('{"env":', 400, 6, /undecodable request/);
        await exact('[]', 400, 6, /"config" must be a string/);
        await exact('{"config":"{}","env":[]}', 400, 4, /"env" must be an object/);
        await exact('{"config":"{}","env":{"CNI_COMMAND":7}}', 400, 4, /env CNI_COMMAND must be a string/);
        await exact('{"config":"{}","env":{}}', 200, 4, /CNI_COMMAND/);
        await exact(
          '{"config":"{}","env":{"CNI_COMMAND":"EXPLODE"}}',
          200,
          4,
          /unknown CNI_COMMAND: EXPLODE/,
        );
        const add = {
          CNI_COMMAND: 'ADD',
          CNI_CONTAINERID: 'c1',
          CNI_NETNS: '/nonexistent',
          CNI_IFNAME: 'eth0',
          CNI_PATH: '/usr/lib/cni',
        };
        await exact(JSON.stringify({ env: add, config: '{"cniVersion":' }), 200, 6, /decode/i);
        await exact(
          JSON.stringify({ env: { ...add, CNI_CONTAINERID: '../x' }, config: '{}' }),
          200,
          4,
          /containerID/,
        );
        await exact(
          JSON.stringify({ env: { ...add, CNI_IFNAME: 'a'.repeat(16) }, config: '{}' }),
          200,
          4,
          /longer than 15/,
        );
        await exact(JSON.stringify({ env: { ...add, CNI_ARGS: 'a=b=c' }, config: '{}' }), 200, 4, /CNI_ARGS/);
        await exact(
          JSON.stringify({ env: add, config: '{"cniVersion":"7.0.0","name":"m","type":"multinet-shim"}' }),
          200,
          1,
          /incompatible CNI versions/,
        );
        await exact('{"env":{},"config":""}', 415, 6, /content-type/i, { contentType: 'text/plain' });
        await exact('{"env":{},"config":""}', 415, 6, /content-type/i, { contentType: null });
        const big = JSON.stringify({ env: add, config: 'x'.repeat(5 << 20) });
        const tooBig = await post(socket, big);
        assert.ok(tooBig.status === 413 || tooBig.status === -1, `HTTP ${tooBig.status}`);
        if (tooBig.status === 413) assert.equal(cniErrorOf(tooBig)?.code, 6);
        for (const [method, path] of [
          ['GET', '/cni'],
          ['PUT', '/cni'],
          ['POST', '/'],
          ['POST', '/cni/../x'],
          ['DELETE', '/healthz'],
        ]) {
          const a = await post(socket, '{}', { method: method!, path: path! });
          assert.equal(a.status, 404, `${method} ${path}: ${a.status}`);
        }
        // Garbage that is not HTTP at all.
        await new Promise<void>((resolve) => {
          const c = net.connect(socket, () => c.end('\x00\xff\r\n\r\nGET'));
          c.on('data', () => undefined);
          c.on('close', () => resolve());
          c.on('error', () => resolve());
        });

        // Still healthy, and nothing changed on the node.
        const pod = await s.topo.addPod();
        assert.equal((await s.call('ADD', 'after-fuzz', pod)).exitCode, 0);
        assert.equal((await s.call('DEL', 'after-fuzz', pod)).exitCode, 0);
        const left = await s.leftovers([pod]);
        assert.deepEqual(recordLeaks('daemon socket fuzz: after', leakList(left)), [], JSON.stringify(left));
        assert.deepEqual(left, NOTHING);
      },
    );

    scenario('slow clients (slowloris) are cut off and pods are served meanwhile', async (t) => {
      const s = await FaultScene.create(t, (topo) => ({
        primary: bridgeNet(topo, 'podnet', '10.121.0.0/24', 'mnh1'),
        bridges: ['mnh1'],
      }));
      await s.start();
      const socket = s.setup.socketPath;
      const pod = await s.topo.addPod();
      assert.equal((await s.call('ADD', 'warm', pod)).exitCode, 0);
      assert.equal((await s.call('DEL', 'warm', pod)).exitCode, 0);
      const fdsBefore = s.fdCount();

      const sockets: net.Socket[] = [];
      let stopped = false;
      const stopAll = () => {
        stopped = true;
        for (const c of sockets) c.destroy();
      };
      t.after(stopAll);
      const closedAt: number[] = [];
      let connected = 0;
      const t0 = Date.now();
      const slow = (kind: 'headers' | 'body' | 'idle') =>
        new Promise<void>((resolve) => {
          const c = net.connect(socket);
          sockets.push(c);
          const done = () => {
            closedAt.push(Date.now() - t0);
            resolve();
          };
          c.on('close', done);
          c.on('error', () => undefined);
          c.on('data', () => undefined);
          const drip = async (text: string) => {
            for (const ch of text) {
              if (stopped || c.destroyed) return;
              c.write(ch);
              await sleep(400);
            }
          };
          c.on('connect', () => {
            connected++;
            if (kind === 'headers') void drip(`POST /cni HTTP/1.1\r\nHost: x\r\nX-Slow: ${'a'.repeat(500)}`);
            if (kind === 'body') {
              c.write(
                'POST /cni HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n',
              );
              void drip('{"env":{'.padEnd(1000, ' '));
            }
          });
        });
      const attackers = [
        ...Array.from({ length: 60 }, () => slow('headers')),
        ...Array.from({ length: 60 }, () => slow('body')),
        ...Array.from({ length: 60 }, () => slow('idle')),
      ];
      await waitFor('the slow connections to open', () => connected === attackers.length);
      // Pods are served while 180 slow connections are open.
      const t1 = Date.now();
      const add = await s.call('ADD', 'during', pod);
      assert.equal(add.exitCode, 0, add.stdout);
      assert.equal((await s.call('DEL', 'during', pod)).exitCode, 0);
      const served = Date.now() - t1;
      assert.ok(served < 10_000, `ADD+DEL took ${served} ms under the attack`);

      const all = Promise.all(attackers);
      const cutOff = await Promise.race([all.then(() => true), sleep(30_000).then(() => false)]);
      stopAll();
      await all;
      record({
        kind: 'note',
        scenario: 'slowloris',
        text: `180 slow connections; ADD+DEL served in ${served} ms meanwhile; all cut off by the daemon after ${Math.max(...closedAt)} ms`,
      });
      assert.ok(cutOff, `slow connections still open after 30 s (closed so far: ${closedAt.length})`);
      await waitFor('the daemon to close their descriptors', () => s.fdCount() <= fdsBefore + 2).catch(
        () => undefined,
      );
      assert.ok(s.fdCount() <= fdsBefore + 2, `descriptors: ${fdsBefore} before, ${s.fdCount()} after`);
      const left = await s.leftovers([pod]);
      assert.deepEqual(recordLeaks('slowloris: after', leakList(left)), [], JSON.stringify(left));
    });
  },
);
