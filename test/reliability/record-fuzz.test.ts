/**
 * Property-based fuzzing (fast-check) of what multinet reads back rather than what a tenant
 * writes: the runtime's GC list (`cni.dev/valid-attachments`), and its own cache records (plan
 * files and result-cache files, as a crash, a full disk or a hand edit may leave them). Through
 * the thin plugin's real entry with the real stores on disk (test/support/fuzz-harness.ts).
 * Properties: every answer is a success or a CNI error with a spec code, never 999; a GC never
 * releases a container its list names as valid; a DEL over any cache content leaves no plan.
 */
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe } from 'node:test';
import fc from 'fast-check';
import { CniError } from '../../src/cni/cni-error.ts';
import { decodeCacheRecord } from '../../src/cni/result-cache.ts';
import { FileResultCache } from '../../src/host/file-result-cache.ts';
import { fuzzCounter, scenario } from '../support/fault-report.ts';
import { harness, MULTINET_CONF, podEnv, SPEC_CODES } from '../support/fuzz-harness.ts';

const RUNS = Number(process.env['MULTINET_FUZZ_RUNS'] ?? 400);
/** The pod of podEnv(), without networks of its own: the default network is attached. */
const POD = { apiVersion: 'v1', kind: 'Pod', metadata: { namespace: 'ns1', name: 'p', uid: 'u1' } };

function assertAnswer(out: { exitCode: number; stdout: string }, what: string): void {
  if (out.exitCode === 0) return;
  const e = JSON.parse(out.stdout) as { code?: unknown; msg?: unknown };
  assert.equal(out.exitCode, 1, what);
  assert.ok(SPEC_CODES.has(Number(e.code)), `${what}: code ${String(e.code)}: ${out.stdout}`);
  assert.ok(typeof e.msg === 'string' && e.msg !== '', `${what}: no message`);
}

const attachmentArb = fc.oneof(
  fc.record({ containerID: fc.constantFrom('keep', 'gone', ''), ifname: fc.constantFrom('eth0', 'net1') }),
  fc.record({ containerid: fc.string({ maxLength: 6 }), IFNAME: fc.string({ maxLength: 6 }) }),
  fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
  fc.anything(),
);

/** Text close to a record (truncated, one field spoiled) or anything at all. */
function recordTextArb(valid: string): fc.Arbitrary<string> {
  return fc.oneof(
    fc.nat({ max: valid.length }).map((n) => valid.slice(0, n)),
    fc
      .tuple(fc.constantFrom(...Object.keys(JSON.parse(valid) as object)), fc.jsonValue({ maxDepth: 3 }))
      .map(([k, v]) => JSON.stringify({ ...(JSON.parse(valid) as object), [k]: v })),
    fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
    fc.string({ maxLength: 200 }),
    fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1')),
  );
}

describe(
  'fast-check: GC lists and cache records',
  // 20 ms per case and target is a wide bound on a shared machine.
  { timeout: 300_000 + RUNS * 60 },
  () => {
    scenario(`GC lists (${RUNS} random cni.dev/valid-attachments)`, async (t) => {
      const h = await harness(t);
      h.cluster.load([POD]);
      const stdin = JSON.stringify(MULTINET_CONF(h.cacheDir));
      const counter = fuzzCounter('GC: cni.dev/valid-attachments');
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            fc.array(attachmentArb, { maxLength: 5 }),
            fc
              .array(attachmentArb, { maxLength: 5 })
              .map((l) => [...l, { containerID: 'keep', ifname: 'eth0' }]),
            fc.anything(),
          ),
          fc.boolean(),
          async (list, legacyKey) => {
            counter.count();
            // "keep" is attached before every GC; whether "keep" may go depends on the list alone.
            const add = await h.call(podEnv('ADD', 'keep'), stdin);
            assert.equal(add.exitCode, 0, add.stdout);
            const conf = {
              ...MULTINET_CONF(h.cacheDir),
              cniVersion: '1.1.0',
              [legacyKey ? 'cni.dev/attachments' : 'cni.dev/valid-attachments']: list,
            };
            const env = { CNI_COMMAND: 'GC', CNI_PATH: '/usr/lib/cni' };
            const out = await h.call(env, JSON.stringify(conf));
            assertAnswer(out, `GC ${String(JSON.stringify(list)).slice(0, 200)}`);
            const named =
              Array.isArray(list) &&
              list.some(
                (a) =>
                  typeof a === 'object' &&
                  a !== null &&
                  (a as Record<string, unknown>)['containerID'] === 'keep' &&
                  (a as Record<string, unknown>)['ifname'] === 'eth0',
              );
            if (named)
              assert.ok(h.lists.attached.has('keep/eth0'), `GC released a valid container: ${out.stdout}`);
            assert.equal((await h.call(podEnv('DEL', 'keep'), stdin)).exitCode, 0);
            assert.deepEqual([...h.lists.attached.keys()], []);
          },
        ),
        { numRuns: RUNS },
      );
      counter.done();
    });

    scenario(
      `plan records (${RUNS} damaged plan files): DEL and CHECK answer, DEL leaves none`,
      async (t) => {
        const h = await harness(t);
        h.cluster.load([POD]);
        const stdin = JSON.stringify(MULTINET_CONF(h.cacheDir));
        const add = await h.call(podEnv('ADD', 'model'), stdin);
        assert.equal(add.exitCode, 0, add.stdout);
        const plans = join(h.cacheDir, 'plans');
        const valid = await readFile(join(plans, 'model'), 'utf8');
        assert.equal((await h.call(podEnv('DEL', 'model'), stdin)).exitCode, 0);
        const counter = fuzzCounter('cache: plan records (engine DEL, CHECK)');
        await fc.assert(
          fc.asyncProperty(recordTextArb(valid), async (text) => {
            counter.count();
            await mkdir(plans, { recursive: true, mode: 0o700 });
            await writeFile(join(plans, 'rec1'), text, { mode: 0o600 });
            assertAnswer(await h.call(podEnv('CHECK', 'rec1'), stdin), `CHECK over ${text.slice(0, 120)}`);
            const del = await h.call(podEnv('DEL', 'rec1'), stdin);
            assertAnswer(del, `DEL over ${text.slice(0, 120)}`);
            if (del.exitCode !== 0) assert.equal((await h.call(podEnv('DEL', 'rec1'), stdin)).exitCode, 0);
            assert.deepEqual(
              await readdir(plans),
              [],
              `a plan was left after DEL over ${text.slice(0, 120)}`,
            );
            h.lists.attached.clear();
          }),
          { numRuns: RUNS },
        );
        counter.done();
      },
    );

    scenario(`result-cache records (${RUNS} damaged files): read or refused with a CNI error`, async (t) => {
      const h = await harness(t);
      const cache = new FileResultCache(h.cacheDir);
      const key = { networkName: 'podnet', containerId: 'c1', ifName: 'eth0' };
      const valid = JSON.stringify({
        kind: 'cniCacheV1',
        ...key,
        config: JSON.stringify({ cniVersion: '1.0.0', name: 'podnet', type: 'bridge' }),
        netns: '/run/netns/x',
        cniArgs: [['K8S_POD_NAME', 'p']],
        capabilityArgs: {},
        result: { cniVersion: '1.0.0', ips: [{ address: '10.9.0.5/24' }] },
      });
      assert.equal(decodeCacheRecord(valid, key).containerId, 'c1');
      const counter = fuzzCounter('cache: result records (get, list)');
      await fc.assert(
        fc.asyncProperty(recordTextArb(valid), async (text) => {
          counter.count();
          await mkdir(cache.dir, { recursive: true, mode: 0o700 });
          await writeFile(join(cache.dir, 'podnet-c1-eth0'), text, { mode: 0o600 });
          try {
            const got = await cache.get(key);
            assert.ok(got === undefined || got.kind === 'cniCacheV1');
          } catch (err) {
            assert.ok(err instanceof CniError, `not a CNI error: ${String(err)} for ${text.slice(0, 120)}`);
            assert.ok(SPEC_CODES.has(err.code), `code ${err.code}`);
          }
          // Listing skips what it cannot read; it never throws on content.
          for (const r of await cache.list('c1')) assert.equal(r.kind, 'cniCacheV1');
        }),
        { numRuns: RUNS },
      );
      counter.done();
    });
  },
);
