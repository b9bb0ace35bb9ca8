import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { deepStrictEqual, ok } from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { VALIDATE_MAX_BYTES, runValidate } from './validate-command.ts';

const FIXTURES = new URL('../../test/fixtures/manifests/', import.meta.url);

function fixture(name: string): { path: string; content: string } {
  return { path: name, content: readFileSync(new URL(name, FIXTURES), 'utf8') };
}
const validate = (content: string, path = 'in.yaml') => runValidate([{ path, content }]);

describe('runValidate on fixtures', () => {
  it('accepts the 2018 proof-of-concept manifests and their v1 equivalents', () => {
    for (const dir of ['poc-2018', 'v1']) {
      const files = readdirSync(new URL(`${dir}/`, FIXTURES)).map((f) => fixture(`${dir}/${f}`));
      ok(files.length >= 2);
      const { lines, exitCode } = runValidate(files);
      deepStrictEqual(exitCode, 0);
      // Only the 2018 manifests' default route via net1 is worth a word (docs/annotations.md).
      deepStrictEqual(
        lines.filter((l) => !/: warning: .*ipam\.routes dst 0\.0\.0\.0\/0/.test(l)),
        [],
        lines.join('\n'),
      );
    }
  });

  it("warns, without failing, about the 2018 Network's default route via net1", () => {
    const files = ['bothpod.yaml', 'macvlan-conf.yaml'].map((f) => fixture(`poc-2018/${f}`));
    const see = 'docs/annotations.md, "Default routes from additional networks"';
    const where = 'plugins[0] (macvlan): ipam.routes dst 0.0.0.0/0';
    deepStrictEqual(runValidate(files), {
      exitCode: 0,
      lines: [
        `poc-2018/bothpod.yaml: Pod default/bothpod: metadata.annotations["kubernetes.v1.cni.cncf.io/networks"]: warning: element 0 (default/macvlan-conf) adds a default route via net1 (${where}) without "default-route": a second default route, ahead of eth0's, sends the pod's Service and Internet traffic over net1 (${see})`,
        `poc-2018/macvlan-conf.yaml: Network default/macvlan-conf: spec.config: warning: installs a default route in the pod (${where}): as an additional network without "default-route" it adds a second one, ahead of eth0's (${see})`,
      ],
    });
    // Asked for: the route is the pod's choice, and ADD leaves only that one.
    const chosen = fixture('poc-2018/bothpod.yaml');
    chosen.content = chosen.content.replace(
      /kubernetes\.v1\.cni\.cncf\.io\/networks: .*$/m,
      `k8s.v1.cni.cncf.io/networks: '[{"name": "macvlan-conf", "default-route": []}]'`,
    );
    const lines = runValidate([chosen, fixture('poc-2018/macvlan-conf.yaml')]).lines;
    deepStrictEqual(
      lines.filter((l) => l.includes('Pod default/bothpod')),
      [],
    );
  });

  it('reports each bad annotation with file, object, field and reason', () => {
    const { lines, exitCode } = runValidate([fixture('invalid/bad-annotations.yaml')]);
    const f = 'invalid/bad-annotations.yaml';
    const key = 'annotations["k8s.v1.cni.cncf.io/networks"]';
    deepStrictEqual(exitCode, 1);
    deepStrictEqual(lines, [
      `${f}: Pod team-a/bad-mac: metadata.${key}: element 0 ("macvlan-conf"): key "mac" value "zz:00:00:00:00:01": not a 6-byte Ethernet MAC address (six hex bytes separated by ":" or "-")`,
      `${f}: Pod default/empty-item: metadata.${key}: element 1: empty item (a stray ','?)`,
      `${f}: Deployment default/eth0-clash: spec.template.metadata.${key}: element 0 ("macvlan-conf"): key "interface" value "eth0": already used by the default network (spec §4.1.2.1.5)`,
      `${f}: Pod default/list-not-string: metadata.${key}: must be a string (quote JSON values in YAML)`,
      `${f}: Pod default/two-default-routes: metadata.${key}: element 1 ("b"): key "default-route": only one element may request the default route and element 0 already does (spec §4.1.2.1.9)`,
    ]);
  });

  it('reports each bad definition', () => {
    const { lines, exitCode } = runValidate([fixture('invalid/bad-definitions.yaml')]);
    deepStrictEqual(exitCode, 1);
    const expected: [string, string, RegExp][] = [
      ['NetworkAttachmentDefinition default/config-as-mapping', 'spec.config', /must be a string/],
      [
        'NetworkAttachmentDefinition default/path-in-type',
        'spec.config.plugins[1].type',
        /"\.\.\/\.\.\/tmp\/evil": plugin type must be a plain file name/,
      ],
      ['Network default/both-config-and-plugin', 'spec', /not both/],
      ['NetworkAttachmentDefinition default/broken-json', 'spec.config', /not valid JSON/],
      ['NetworkAttachmentDefinition default/Upper_Case', 'metadata.name', /DNS-1123/],
      ['NetworkAttachmentDefinition default/old-version', 'apiVersion', /served as k8s.cni.cncf.io\/v1/],
    ];
    deepStrictEqual(lines.length, expected.length, lines.join('\n'));
    expected.forEach(([object, field, reason], i) => {
      const prefix = `invalid/bad-definitions.yaml: ${object}: ${field}: `;
      ok(lines[i]?.startsWith(prefix), `${lines[i]} should start with ${prefix}`);
      ok(reason.test(lines[i] ?? ''), `${lines[i]} !~ ${String(reason)}`);
    });
  });

  it('reports unreadable YAML per document and still checks the others', () => {
    const { lines, exitCode } = runValidate([fixture('invalid/unreadable-yaml.txt')]);
    deepStrictEqual(exitCode, 1);
    deepStrictEqual(lines.length, 1);
    ok(
      /^invalid\/unreadable-yaml\.txt: document 2: unreadable YAML: .* \(line \d+, column \d+\)$/.test(
        lines[0] ?? '',
      ),
      lines[0],
    );
  });

  it('does not expand a billion-laughs document', () => {
    const started = Date.now();
    const { lines } = runValidate([fixture('invalid/alias-bomb.yaml')]);
    ok(Date.now() - started < 2000);
    deepStrictEqual(lines, [
      'invalid/alias-bomb.yaml: unreadable YAML: Excessive alias count indicates a resource exhaustion attack',
    ]);
  });
});

describe('runValidate on other input', () => {
  it('refuses oversized files and survives absurd nesting', () => {
    deepStrictEqual(validate(' '.repeat(VALIDATE_MAX_BYTES + 1)).lines, [
      `in.yaml: too large to check (${VALIDATE_MAX_BYTES + 1} bytes; the limit is ${VALIDATE_MAX_BYTES})`,
    ]);
    const deep = validate(`a: ${'['.repeat(150000)}${']'.repeat(150000)}`);
    deepStrictEqual(deep.exitCode, 1);
    ok(deep.lines[0]?.startsWith('in.yaml: unreadable YAML:'), deep.lines[0]);
  });

  it('reads JSON and List kinds', () => {
    deepStrictEqual(runValidate([fixture('v1/list.json')]), { lines: [], exitCode: 0 });
    const list = JSON.stringify({
      apiVersion: 'v1',
      kind: 'PodList',
      items: [
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'p', annotations: { 'k8s.v1.cni.cncf.io/networks': 'A' } },
        },
      ],
    });
    deepStrictEqual(validate(list, 'pods.json').lines, [
      'pods.json: Pod default/p: metadata.annotations["k8s.v1.cni.cncf.io/networks"]: element 0 ("A"): key "name" value "A": not a DNS-1123 label: use lower-case letters, digits and \'-\', starting and ending with a letter or digit',
    ]);
  });

  it('checks what the CNI layer would refuse at run time', () => {
    const nad = `apiVersion: k8s.cni.cncf.io/v1
kind: NetworkAttachmentDefinition
metadata: {name: n}
spec:
  config: '{"cniVersion": "1.0.0", "name": "has space", "type": "bridge"}'
`;
    const { lines } = validate(nad);
    deepStrictEqual(lines.length, 1);
    ok(lines[0]?.startsWith('in.yaml: NetworkAttachmentDefinition default/n: spec.config: '), lines[0]);
  });

  it('accepts a definition without spec.config (the node directory supplies it)', () => {
    deepStrictEqual(
      validate('apiVersion: k8s.cni.cncf.io/v1\nkind: NetworkAttachmentDefinition\nmetadata: {name: n}\n')
        .lines,
      [],
    );
  });

  it('flags a 2018 key that the v1 key hides, and a default-network override naming two networks', () => {
    const pod = `apiVersion: v1
kind: Pod
metadata:
  name: p
  namespace: ns
  annotations:
    k8s.v1.cni.cncf.io/networks: a
    kubernetes.v1.cni.cncf.io/networks: b
    v1.multus-cni.io/default-network: x,y
`;
    deepStrictEqual(validate(pod).lines, [
      'in.yaml: Pod ns/p: metadata.annotations["kubernetes.v1.cni.cncf.io/networks"]: ignored because k8s.v1.cni.cncf.io/networks is set; keep one of them',
      'in.yaml: Pod ns/p: metadata.annotations["v1.multus-cni.io/default-network"]: must name exactly one network',
    ]);
  });

  it('ignores other kinds and empty documents, reports non-objects', () => {
    deepStrictEqual(validate('---\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n').lines, []);
    deepStrictEqual(validate('just a string\n').lines, [
      'in.yaml: not a Kubernetes object (expected a mapping with apiVersion and kind)',
    ]);
    deepStrictEqual(validate('a: 1\n---\n- x\n').lines, [
      'in.yaml: document 1: not a Kubernetes object (expected a mapping with apiVersion and kind)',
      'in.yaml: document 2: not a Kubernetes object (expected a mapping with apiVersion and kind)',
    ]);
  });

  it('never throws and never reports an internal error, whatever the input', () => {
    const anyJson = fc.json().map((t) => JSON.parse(t) as unknown);
    const annotations = fc.dictionary(
      fc.constantFrom(
        'k8s.v1.cni.cncf.io/networks',
        'kubernetes.v1.cni.cncf.io/networks',
        'v1.multus-cni.io/default-network',
        'k8s.v1.cni.cncf.io/resourceName',
      ),
      fc.oneof(
        fc.string({ unit: 'binary' }),
        anyJson,
        fc.constantFrom('a,b@net1', '[{"name":"a","mac":"x"}]'),
      ),
    );
    const object = fc.record(
      {
        apiVersion: fc.constantFrom('v1', 'apps/v1', 'k8s.cni.cncf.io/v1', 'kubernetes.cni.cncf.io/v1'),
        kind: fc.constantFrom(
          'Pod',
          'Deployment',
          'CronJob',
          'NetworkAttachmentDefinition',
          'Network',
          'List',
        ),
        metadata: fc.oneof(
          fc.record(
            { name: fc.oneof(fc.string(), anyJson), namespace: fc.oneof(fc.string(), anyJson), annotations },
            { requiredKeys: [] },
          ),
          anyJson,
        ),
        spec: fc.oneof(
          fc.record(
            { config: fc.oneof(fc.string(), anyJson), plugin: anyJson, template: anyJson },
            { requiredKeys: [] },
          ),
          anyJson,
        ),
        items: fc.array(anyJson, { maxLength: 2 }),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary' }),
          object.map((o) => JSON.stringify(o)),
          fc.array(object).map((l) => l.map((o) => JSON.stringify(o)).join('\n---\n')),
        ),
        (text) => {
          const { lines, exitCode } = validate(text);
          deepStrictEqual(exitCode, lines.length > 0 ? 1 : 0);
          for (const line of lines) {
            ok(!line.includes('internal error'), line);
            // Input is echoed escaped: only our own text (the § of spec citations) is outside printable ASCII.
            ok(!/[^\x20-\x7e§]/.test(line), line);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('refuses a requested interface that collides with a generated net<i>, as ADD and explain do', () => {
    const podYaml = JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        namespace: 'ns1',
        name: 'p',
        annotations: { 'k8s.v1.cni.cncf.io/networks': 'net-b,net-a@net1' },
      },
    });
    const { lines, exitCode } = runValidate([{ path: 'pod.yaml', content: podYaml }]);
    deepStrictEqual(exitCode, 1);
    ok(
      /pod\.yaml: Pod ns1\/p: .*interface name "net1" is already used by network ns1\/net-b/.test(
        lines[0] ?? '',
      ),
      lines.join('\n'),
    );
  });

  it('the CLI takes a directory of manifests and says a missing file in words', async () => {
    const { runCli } = await import('./run-cli.ts');
    let out = '';
    const io = {
      stdout: (s: string) => (out += s),
      stderr: (s: string) => (out += s),
      env: {},
      isTty: false,
    };
    const dir = join(import.meta.dirname, '../../test/fixtures/manifests/v1');
    deepStrictEqual(await runCli(['validate', dir], io), 0, out);
    out = '';
    deepStrictEqual(await runCli(['validate', join(dir, 'no-such.yaml')], io), 1);
    ok(/cannot read .*no-such\.yaml: no such file or directory/.test(out) && !/ENOENT/.test(out), out);
  });
});

describe('runValidate: multinet itself as a delegate', () => {
  it('reports multinet as type or ipam.type, as the engine refuses it', () => {
    const nad = (name: string, config: Record<string, unknown>) =>
      `apiVersion: k8s.cni.cncf.io/v1\nkind: NetworkAttachmentDefinition\nmetadata: {namespace: t, name: ${name}}\nspec:\n  config: '${JSON.stringify({ cniVersion: '1.0.0', name, ...config })}'\n`;
    const out = validate(
      [
        nad('a', { type: 'multinet', binDirs: ['/bin'] }),
        nad('b', { type: 'macvlan', ipam: { type: 'multinet-shim' } }),
      ].join('---\n'),
    );
    deepStrictEqual(out.exitCode, 1);
    ok(
      out.lines.some((l) =>
        /NetworkAttachmentDefinition t\/a: spec\.config type: "multinet": multinet's own/.test(l),
      ),
      out.lines.join('\n'),
    );
    ok(
      out.lines.some((l) => /t\/b: spec\.config ipam\.type: "multinet-shim"/.test(l)),
      out.lines.join('\n'),
    );
  });
});
