/**
 * Property-based fuzzing (fast-check) of everything a pod author, a network admin or a broken
 * runtime can hand multinet: the networks annotation, NAD configs, and the CNI call itself (env
 * and stdin), all through the thin plugin's real entry (runThinPlugin → runPluginMain → engine)
 * with the real plan store on disk, real config parsing and local-mode cluster view. Delegates
 * are recorded instead of run (the reliability scenarios run the real ones): the point here is
 * what multinet decides from the input. Properties: every answer is a success or a CNI error
 * object with a spec code (never 999, an unexpected exception), naming what is wrong; after a
 * failure nothing is left (no plan, every delegate ADD undone); after a success DEL leaves nothing.
 */
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe } from 'node:test';
import fc from 'fast-check';
import { fuzzCounter, record, scenario } from '../support/fault-report.ts';
import { harness, MULTINET_CONF, podEnv, SPEC_CODES, type Harness } from '../support/fuzz-harness.ts';

const RUNS = Number(process.env['MULTINET_FUZZ_RUNS'] ?? 400);

function nadObject(namespace: string, name: string, config: unknown): Record<string, unknown> {
  return {
    apiVersion: 'k8s.cni.cncf.io/v1',
    kind: 'NetworkAttachmentDefinition',
    metadata: { namespace, name },
    spec: config === undefined ? {} : { config },
  };
}

function pod(annotation: string | undefined): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      namespace: 'ns1',
      name: 'p',
      uid: 'u1',
      annotations: annotation === undefined ? {} : { 'k8s.v1.cni.cncf.io/networks': annotation },
    },
  };
}

const GOOD_NADS = [
  nadObject(
    'ns1',
    'good',
    JSON.stringify({ cniVersion: '1.0.0', type: 'macvlan', capabilities: { ips: true, mac: true } }),
  ),
  nadObject(
    'ns1',
    'list',
    JSON.stringify({ cniVersion: '0.4.0', name: 'list', plugins: [{ type: 'bridge' }, { type: 'tuning' }] }),
  ),
  nadObject('other', 'remote', JSON.stringify({ cniVersion: '1.0.0', type: 'ptp' })),
];

/** CNI codes seen per target, reported as a note. */
function histogram(target: string) {
  const seen = new Map<string, number>();
  return {
    add(out: { exitCode: number; stdout: string }) {
      const code = out.exitCode === 0 ? 'ok' : String((JSON.parse(out.stdout) as { code?: unknown }).code);
      seen.set(code, (seen.get(code) ?? 0) + 1);
    },
    done() {
      record({
        kind: 'note',
        scenario: target,
        text: `outcomes: ${JSON.stringify(Object.fromEntries(seen))}`,
      });
    },
  };
}

/** After one call: a success, or a spec-coded error that names the pod; then nothing may be left. */
async function check(h: Harness, out: { exitCode: number; stdout: string }, stdin: string, what: string) {
  const parsed = JSON.parse(out.stdout) as { code?: unknown; msg?: unknown; details?: unknown };
  if (out.exitCode === 0) {
    const del = await h.call(podEnv('DEL'), stdin);
    assert.equal(del.exitCode, 0, `${what}: DEL after a successful ADD: ${del.stdout}`);
  } else {
    assert.equal(out.exitCode, 1);
    assert.ok(SPEC_CODES.has(Number(parsed.code)), `${what}: code ${String(parsed.code)}: ${out.stdout}`);
    assert.ok(typeof parsed.msg === 'string' && parsed.msg !== '', `${what}: no message`);
  }
  assert.deepEqual(
    (await readdir(join(h.cacheDir, 'plans')).catch(() => [])).filter((f) => !f.startsWith('.')),
    [],
    `${what}: a plan was left: ${out.stdout}`,
  );
  assert.deepEqual([...h.lists.attached.keys()], [], `${what}: attachments left: ${out.stdout}`);
  return parsed;
}

const names = fc.oneof(
  fc.constantFrom('good', 'list', 'missing', 'GOOD', 'a.b', '-x', 'x'.repeat(70), 'remote', 'other/remote'),
  fc.string({ maxLength: 12 }),
);
const ifnames = fc.oneof(
  fc.constantFrom(
    'net1',
    'eth0',
    'data0',
    'x'.repeat(16),
    'a b',
    'a/b',
    'a:b',
    '..',
    '',
    'né\u0000t',
    '\u202etxt',
  ),
  fc.string({ maxLength: 17 }),
);
const elementArb = fc.record(
  {
    name: names,
    namespace: fc.oneof(
      fc.constantFrom('ns1', 'other', 'kube-system', '', 'NS'),
      fc.string({ maxLength: 8 }),
    ),
    interface: ifnames,
    ips: fc.oneof(
      fc.constant(['10.9.0.7/24']),
      fc.array(fc.string({ maxLength: 20 }), { maxLength: 3 }),
      fc.anything(),
    ),
    mac: fc.oneof(fc.constantFrom('02:11:22:33:44:55', 'zz', ''), fc.anything()),
    'default-route': fc.oneof(fc.constant(['10.9.0.1']), fc.anything()),
    'cni-args': fc.oneof(fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue()), fc.anything()),
    portMappings: fc.anything(),
    bandwidth: fc.anything(),
    'infiniband-guid': fc.anything(),
  },
  { requiredKeys: ['name'] },
);
const annotationArb = fc.oneof(
  fc.string(),
  fc
    .array(fc.tuple(fc.option(fc.constantFrom('ns1', 'other', 'x/y')), names, fc.option(ifnames)), {
      maxLength: 5,
    })
    .map((els) =>
      els
        .map(([ns, n, i]) => `${ns ? `${ns}/` : ''}${n}${i ? `@${i}` : ''}`)
        .join(fc.sample(fc.constantFrom(',', ', ', ' ,'), 1)[0]),
    ),
  fc.array(elementArb, { maxLength: 4 }).map((v) => JSON.stringify(v)),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.constantFrom(
    '[',
    '[{"name":"good"}',
    '{"name":"good"}',
    '  ',
    ',,,',
    '[[[[[[[[]]]]]]]]',
    `[${'['.repeat(200)}`,
  ),
);

describe(
  'fast-check: bad input through the thin plugin and the engine',
  // 20 ms per case and target is a wide bound on a shared machine.
  { timeout: 300_000 + RUNS * 60 },
  () => {
    scenario(`networks annotation (${RUNS} random annotations)`, async (t) => {
      const h = await harness(t);
      const stdin = JSON.stringify(MULTINET_CONF(h.cacheDir));
      const counter = fuzzCounter('networks annotation (engine ADD)');
      const seen = histogram('networks annotation fuzz');
      await fc.assert(
        fc.asyncProperty(annotationArb, async (annotation) => {
          counter.count();
          h.cluster.load([...GOOD_NADS, pod(annotation)]);
          const out = await h.call(podEnv('ADD'), stdin);
          seen.add(out);
          const e = await check(h, out, stdin, `annotation ${JSON.stringify(annotation).slice(0, 200)}`);
          if (out.exitCode !== 0) assert.match(`${String(e.details)}`, /pod ns1\/p/, out.stdout);
        }),
        { numRuns: RUNS },
      );
      counter.done();
      seen.done();
    });

    scenario(
      'hostile selections: collisions, long and odd interface names, cross-namespace under isolation',
      async (t) => {
        const h = await harness(t);
        const conf = { ...MULTINET_CONF(h.cacheDir), namespaceIsolation: true, globalNamespaces: [] };
        const stdin = JSON.stringify(conf);
        const cases: [string, RegExp][] = [
          ['good@net2,list', /interface name "net2" is already used/],
          ['good@eth0', /eth0/],
          ['[{"name":"good","interface":"abcdefghijklmnop"}]', /longer than 15/],
          ['[{"name":"good","interface":"a\\u0000b"}]', /control characters|whitespace/],
          ['[{"name":"good","interface":"../x"}]', /'\/'/],
          ['[{"name":"good","interface":"a:b"}]', /':'/],
          ['other/remote', /namespaceIsolation is on/],
          ['[{"name":"remote","namespace":"other"}]', /namespaceIsolation is on/],
          ['good,good', /already used|net1/],
        ];
        for (const [annotation, pattern] of cases) {
          h.cluster.load([...GOOD_NADS, pod(annotation)]);
          const out = await h.call(podEnv('ADD'), stdin);
          const e = await check(h, out, stdin, annotation);
          if (annotation === 'good,good') continue; // two attachments of one network are allowed
          assert.equal(out.exitCode, 1, `${annotation}: ${out.stdout}`);
          assert.equal(e.code, 7, `${annotation}: ${out.stdout}`);
          assert.match(String(e.details), pattern, annotation);
          assert.equal(h.lists.adds, 0, `${annotation}: a delegate ran`);
        }
      },
    );

    const type = fc.oneof(
      fc.constantFrom(
        'macvlan',
        '../../../bin/sh',
        '/bin/sh',
        'a/b',
        '..',
        '.',
        '',
        'x\u0000y',
        'x'.repeat(300),
        'bridge\n',
      ),
      fc.string({ maxLength: 10 }),
    );
    const pluginArb = fc.record(
      {
        type,
        name: fc.string({ maxLength: 8 }),
        capabilities: fc.anything(),
        ipam: fc.anything(),
        cniVersion: fc.anything(),
      },
      { requiredKeys: [] },
    );
    const nadConfigArb = fc.oneof(
      // Valid configs with random extra keys: delegates must receive fields multinet does not know.
      fc
        .dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 3 }))
        .map((extra) => JSON.stringify({ ...extra, cniVersion: '1.0.0', type: 'macvlan' })),
      fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 3 })).map((extra) =>
        JSON.stringify({
          cniVersion: '0.4.0',
          name: 'fuzznad',
          plugins: [{ ...extra, type: 'bridge' }, { type: 'tuning' }],
        }),
      ),
      fc.string(),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      pluginArb.map((p) => JSON.stringify({ cniVersion: '1.0.0', ...p })),
      fc
        .record(
          {
            cniVersion: fc.oneof(fc.constantFrom('1.0.0', '0.3.1', '0.1.0', '2.0.0', ''), fc.anything()),
            name: fc.oneof(fc.constantFrom('fuzznad', 'x y', ''), fc.anything()),
            plugins: fc.oneof(fc.array(pluginArb, { maxLength: 3 }), fc.anything()),
            disableCheck: fc.anything(),
          },
          { requiredKeys: [] },
        )
        .map((v) => JSON.stringify(v)),
      fc.constantFrom(
        undefined,
        '',
        '{}',
        '[]',
        'null',
        `${'['.repeat(100_000)}`,
        `{"cniVersion":"1.0.0","type":"x","pad":"${'a'.repeat(2 << 20)}"}`,
      ),
      fc.anything(),
    );

    scenario(`NAD configs (${RUNS} random spec.config values)`, async (t) => {
      const h = await harness(t);
      const stdin = JSON.stringify(MULTINET_CONF(h.cacheDir));
      const counter = fuzzCounter('NAD spec.config (engine ADD)');
      const seen = histogram('NAD config fuzz');
      await fc.assert(
        fc.asyncProperty(nadConfigArb, async (config) => {
          counter.count();
          h.cluster.load([nadObject('ns1', 'fuzznad', config), pod('fuzznad')]);
          const out = await h.call(podEnv('ADD'), stdin);
          seen.add(out);
          const e = await check(h, out, stdin, `config ${String(JSON.stringify(config)).slice(0, 200)}`);
          if (out.exitCode !== 0) assert.match(String(e.details), /ns1\/fuzznad/, out.stdout);
        }),
        { numRuns: RUNS },
      );
      counter.done();
      seen.done();
    });

    const envArb = fc.record(
      {
        CNI_COMMAND: fc.oneof(
          fc.constantFrom('ADD', 'DEL', 'CHECK', 'GC', 'STATUS', 'VERSION', '', 'add'),
          fc.string({ maxLength: 6 }),
        ),
        CNI_CONTAINERID: fc.oneof(
          fc.constantFrom('fuzz1', '', '../x', 'a b', 'x'.repeat(300)),
          fc.string({ maxLength: 12 }),
        ),
        CNI_NETNS: fc.oneof(fc.constantFrom('/run/netns/none', ''), fc.string({ maxLength: 12 })),
        CNI_IFNAME: fc.oneof(
          fc.constantFrom('eth0', '', 'x'.repeat(16), 'a/b', '..'),
          fc.string({ maxLength: 17 }),
        ),
        CNI_ARGS: fc.oneof(
          fc.constantFrom(
            '',
            'IgnoreUnknown=1;K8S_POD_NAMESPACE=ns1;K8S_POD_NAME=p',
            'a=b=c',
            ';',
            '=v',
            'K8S_POD_NAME=p',
          ),
          fc.string({ maxLength: 30 }),
        ),
        CNI_PATH: fc.constantFrom('/usr/lib/cni', '', ':::', 'relative'),
      },
      { requiredKeys: [] },
    );

    scenario(`CNI env and stdin (${RUNS} random calls)`, async (t) => {
      const h = await harness(t);
      h.cluster.load([...GOOD_NADS, pod('good')]);
      const valid = MULTINET_CONF(h.cacheDir);
      const stdinArb = fc.oneof(
        fc.string(),
        fc.jsonValue().map((v) => JSON.stringify(v)),
        fc.constant(JSON.stringify(valid)),
        fc
          .record(
            {
              cniVersion: fc.oneof(
                fc.constantFrom('1.0.0', '0.4.0', '0.3.1', '0.1.0', '1.1.0', '9.9.9', ''),
                fc.anything(),
              ),
              name: fc.oneof(fc.constant('multinet'), fc.anything()),
              type: fc.oneof(fc.constant('multinet'), fc.anything()),
              cacheDir: fc.constantFrom(h.cacheDir, 'relative', ''),
              clusterNetworkConfig: fc.oneof(fc.constant(valid.clusterNetworkConfig), fc.anything()),
              clusterNetwork: fc.anything(),
              delegateTimeoutSeconds: fc.anything(),
              runtimeConfig: fc.anything(),
              prevResult: fc.anything(),
              logLevel: fc.anything(),
            },
            { requiredKeys: ['cacheDir'] },
          )
          .map((v) => JSON.stringify(v)),
      );
      const counter = fuzzCounter('CNI env + stdin (runPluginMain, thin plugin)');
      const seen = histogram('CNI env + stdin fuzz');
      await fc.assert(
        fc.asyncProperty(envArb, stdinArb, async (env, stdin) => {
          counter.count();
          const out = await h.call(env, stdin);
          if (out.stdout !== '') seen.add(out);
          const parsed = JSON.parse(out.stdout || '{}') as { code?: unknown; msg?: unknown };
          if (out.exitCode !== 0) {
            assert.ok(
              SPEC_CODES.has(Number(parsed.code)),
              `code ${String(parsed.code)} for ${JSON.stringify(env)} ${stdin.slice(0, 200)}: ${out.stdout}`,
            );
            assert.ok(typeof parsed.msg === 'string' && parsed.msg !== '');
          } else if (env.CNI_COMMAND === 'ADD') {
            await h.call({ ...env, CNI_COMMAND: 'DEL' }, stdin);
          }
          assert.deepEqual([...h.lists.attached.keys()], [], `attachments left by ${JSON.stringify(env)}`);
        }),
        { numRuns: RUNS },
      );
      counter.done();
      seen.done();
      assert.deepEqual(
        (await readdir(join(h.cacheDir, 'plans')).catch(() => [])).filter((f) => !f.startsWith('.')),
        [],
      );
    });
  },
);
