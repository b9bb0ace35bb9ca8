import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  buildPluginEnv,
  formatCniArgs,
  interfaceNameProblem,
  parseCniArgs,
  parseCniRequest,
} from './cni-env.ts';
import { CniError } from './cni-error.ts';

const conf = JSON.stringify({ cniVersion: '1.0.0', name: 'net', type: 'multinet' });
const addEnv = {
  CNI_COMMAND: 'ADD',
  CNI_CONTAINERID: 'abc123',
  CNI_NETNS: '/run/netns/p',
  CNI_IFNAME: 'eth0',
  CNI_PATH: '/opt/cni/bin::/usr/lib/cni',
  CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web',
};
const code = (c: number, re?: RegExp) => (e: unknown) =>
  e instanceof CniError && e.code === c && (re === undefined || re.test(e.message));

test('parseCniArgs: pairs in order; exactly two parts per pair', () => {
  assert.deepEqual(parseCniArgs(''), []);
  assert.deepEqual(parseCniArgs('A=1;B=;C=x y'), [
    ['A', '1'],
    ['B', ''],
    ['C', 'x y'],
  ]);
  for (const bad of ['A', 'A=1=2', 'A=1;', ';A=1', '=1', 'A=1;;B=2']) {
    assert.throws(() => parseCniArgs(bad), code(4, /CNI_ARGS: invalid pair/), bad);
  }
});

test('formatCniArgs refuses pairs that would not parse back', () => {
  assert.equal(formatCniArgs([['K8S_POD_NAME', 'web']]), 'K8S_POD_NAME=web');
  for (const pair of [
    ['a;b', 'c'],
    ['a', 'b=c'],
    ['', 'x'],
    ['a', 'b;c'],
  ] as [string, string][]) {
    assert.throws(() => formatCniArgs([pair]), code(4));
  }
});

test('property: formatCniArgs then parseCniArgs round-trips; any text parses or throws CniError 4', () => {
  const part = fc.string().filter((s) => !/[;=]/.test(s));
  const pairs = fc.array(
    fc.tuple(
      part.filter((s) => s !== ''),
      part,
    ),
  );
  fc.assert(fc.property(pairs, (p) => assert.deepEqual(parseCniArgs(formatCniArgs(p)), p)));
  fc.assert(
    fc.property(fc.string(), (s) => {
      try {
        const parsed = parseCniArgs(s);
        assert.equal(formatCniArgs(parsed), s);
      } catch (e) {
        assert.ok(e instanceof CniError && e.code === 4);
      }
    }),
  );
});

test('parseCniRequest: ADD with all variables', () => {
  const req = parseCniRequest(addEnv, Buffer.from(conf));
  assert.equal(req.command, 'ADD');
  assert.equal(req.containerId, 'abc123');
  assert.equal(req.netns, '/run/netns/p');
  assert.equal(req.ifName, 'eth0');
  assert.deepEqual(req.path, ['/opt/cni/bin', '/usr/lib/cni']);
  assert.deepEqual(req.args[2], ['K8S_POD_NAME', 'web']);
  assert.equal(req.config?.name, 'net');
  assert.equal(req.stdin, conf);
});

test('parseCniRequest: required variables per command (skel) are named', () => {
  const only = (cmd: string, extra: Record<string, string> = {}) => ({ CNI_COMMAND: cmd, ...extra });
  assert.throws(
    () => parseCniRequest(only('ADD'), conf),
    code(4, /\[CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME,CNI_PATH\] missing/),
  );
  assert.throws(
    () => parseCniRequest(only('DEL'), conf),
    code(4, /\[CNI_CONTAINERID,CNI_IFNAME,CNI_PATH\] missing/),
  );
  assert.throws(
    () => parseCniRequest(only('CHECK', { CNI_PATH: '/x' }), conf),
    code(4, /\[CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME\]/),
  );
  assert.throws(() => parseCniRequest(only('GC'), conf), code(4, /\[CNI_PATH\] missing/));
  assert.throws(() => parseCniRequest(only('STATUS'), conf), code(4, /\[CNI_PATH\] missing/));
  assert.throws(() => parseCniRequest({}, conf), code(4, /\[CNI_COMMAND\] missing/));
  assert.throws(() => parseCniRequest(only('FOO'), conf), code(4, /unknown CNI_COMMAND: FOO/));
  const del = parseCniRequest({ ...addEnv, CNI_COMMAND: 'DEL', CNI_NETNS: '' }, conf);
  assert.equal(del.netns, '', 'DEL may come without a netns');
  const gc = parseCniRequest(only('GC', { CNI_PATH: '/x' }), conf);
  assert.equal(gc.containerId, '');
  const version = parseCniRequest(only('VERSION'), 'not json');
  assert.equal(version.config, undefined);
});

test('parseCniRequest: container ID and interface name validation, stdin decoding', () => {
  assert.throws(
    () => parseCniRequest({ ...addEnv, CNI_CONTAINERID: '../x' }, conf),
    code(4, /invalid characters in containerID/),
  );
  assert.throws(
    () => parseCniRequest({ ...addEnv, CNI_CONTAINERID: 'x'.repeat(129) }, conf),
    code(4, /containerID is 129 characters long, the limit is 128/),
  );
  assert.equal(
    parseCniRequest({ ...addEnv, CNI_CONTAINERID: 'x'.repeat(128) }, conf).containerId.length,
    128,
  );
  assert.throws(
    () => parseCniRequest({ ...addEnv, CNI_IFNAME: 'a/b' }, conf),
    code(4, /interface name "a\/b" must not contain '\/'/),
  );
  assert.throws(
    () => parseCniRequest({ ...addEnv, CNI_IFNAME: 'x'.repeat(16) }, conf),
    code(4, /longer than 15/),
  );
  assert.throws(() => parseCniRequest({ ...addEnv, CNI_ARGS: 'bad' }, conf), code(4, /CNI_ARGS/));
  assert.throws(() => parseCniRequest(addEnv, '{'), code(6));
  assert.throws(() => parseCniRequest(addEnv, JSON.stringify({ type: 'x', name: 'a/b' })), code(7, /name/));
  assert.throws(
    () => parseCniRequest({ CNI_COMMAND: 'GC', CNI_PATH: '/x' }, '{"type":"x"}'),
    code(7, /missing network name/),
  );
});

test('interfaceNameProblem: pkg/utils refusals and the stricter rule of the annotation', () => {
  for (const ok of ['eth0', 'net1', 'x'.repeat(15), 'ünï'])
    assert.equal(interfaceNameProblem(ok), undefined, ok);
  for (const bad of [
    '',
    '.',
    '..',
    'a:b',
    'a b',
    'a\tb',
    'x'.repeat(16),
    'äöüäöüäöü',
    'a\u202eb',
    'a\u00a0b',
  ]) {
    assert.ok(interfaceNameProblem(bad), bad);
  }
});

test('buildPluginEnv sets all six CNI_* variables over the base environment', () => {
  const env = buildPluginEnv(
    { command: 'GC', path: ['/a', '/b'] },
    { PATH: '/usr/bin', CNI_ARGS: 'LEAK=1', CNI_CONTAINERID: 'stale', UNSET: undefined },
  );
  assert.deepEqual(env, {
    PATH: '/usr/bin',
    CNI_COMMAND: 'GC',
    CNI_CONTAINERID: '',
    CNI_NETNS: '',
    CNI_IFNAME: '',
    CNI_ARGS: '',
    CNI_PATH: '/a:/b',
  });
  const add = buildPluginEnv({
    command: 'ADD',
    containerId: 'c',
    netns: '/n',
    ifName: 'eth0',
    args: [['A', '1']],
    path: ['/p'],
  });
  assert.equal(add.CNI_ARGS, 'A=1');
  assert.equal(add.CNI_NETNS, '/n');
});

test('property: any environment and stdin give a request or a CniError 4/6/7', () => {
  const value = fc.oneof(
    fc.string(),
    fc.constantFrom('', 'c1', 'eth0', '/run/netns/p', '/opt/cni/bin', 'A=1;B=2'),
  );
  const env = fc.record(
    {
      CNI_COMMAND: fc.oneof(fc.constantFrom('ADD', 'DEL', 'CHECK', 'GC', 'STATUS', 'VERSION'), fc.string()),
      CNI_CONTAINERID: value,
      CNI_NETNS: value,
      CNI_IFNAME: value,
      CNI_ARGS: value,
      CNI_PATH: value,
    },
    { requiredKeys: [] },
  );
  const stdin = fc.oneof(fc.string(), fc.json(), fc.constant(conf));
  fc.assert(
    fc.property(env, stdin, (e, s) => {
      try {
        const req = parseCniRequest(e, s);
        assert.equal(req.command, e.CNI_COMMAND);
        assert.equal(req.config === undefined, req.command === 'VERSION');
      } catch (err) {
        assert.ok(err instanceof CniError && [4, 6, 7].includes(err.code), String(err));
      }
    }),
    { numRuns: 300 },
  );
});
