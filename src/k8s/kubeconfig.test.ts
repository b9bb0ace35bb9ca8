import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseKubeconfig } from './kubeconfig.ts';

const SECRET = 'eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LXBheWxvYWQtdGhhdC1tdXN0LW5vdC1sZWFr.c2lnbmF0dXJl';

test('a malformed kubeconfig is reported by line, never by quoting its content', () => {
  const text = [
    'apiVersion: v1',
    'clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]',
    'users:',
    '- name: u',
    '  user:',
    `    token: ${SECRET}: [oops`,
    'contexts: [{name: x, context: {cluster: c, user: u}}]',
    'current-context: x',
  ].join('\n');
  assert.throws(
    () => parseKubeconfig(text, '/etc/kubeconfig', () => Buffer.alloc(0)),
    (err: Error) => {
      assert.match(err.message, /^kubeconfig \/etc\/kubeconfig: not valid YAML at line 6 \(/);
      for (let i = 0; i + 16 <= SECRET.length; i += 4)
        assert.ok(!err.message.includes(SECRET.slice(i, i + 16)), err.message);
      return true;
    },
  );
});

const kubeconfig = (cluster: string, user: string) =>
  [
    'apiVersion: v1',
    `clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"${cluster}}}]`,
    `users: [{name: u, user: {token: abc${user}}}]`,
    'contexts: [{name: x, context: {cluster: c, user: u}}]',
    'current-context: x',
  ].join('\n');

test('each kubeconfig key that would change how we connect and that we do not implement is refused by name', () => {
  const cases: [string, string, RegExp][] = [
    [
      '',
      ', exec: {apiVersion: client.authentication.k8s.io/v1alpha1, command: aws}',
      /exec: apiVersion must be one of client\.authentication\.k8s\.io\/v1, client\.authentication\.k8s\.io\/v1beta1,/,
    ],
    [
      '',
      ', exec: {apiVersion: client.authentication.k8s.io/v1, command: aws, provideClusterInfo: true}',
      /user "u" exec: provideClusterInfo is not supported/,
    ],
    [
      '',
      ', exec: {apiVersion: client.authentication.k8s.io/v1, command: aws, interactiveMode: Always}',
      /interactiveMode Always/,
    ],
    ['', ', auth-provider: {name: gcp}', /user "u" key "auth-provider"/],
    ['', ', username: admin', /user "u" key "username": basic authentication/],
    ['', ', as: someone', /user "u" key "as": impersonation/],
    [', proxy-url: "http://proxy:3128"', '', /cluster "c" key "proxy-url": proxies/],
  ];
  for (const [cluster, user, want] of cases)
    assert.throws(() => parseKubeconfig(kubeconfig(cluster, user), '/k', () => Buffer.alloc(0)), want);
});

test('tls-server-name is carried to the connection (checked against the server certificate)', () => {
  const conn = parseKubeconfig(kubeconfig(', tls-server-name: api.internal', ''), '/k', () =>
    Buffer.alloc(0),
  );
  assert.equal(conn.tlsServerName, 'api.internal');
  assert.equal(conn.token, 'abc');
});

test('an exec plugin of client.authentication.k8s.io/v1beta1 (what several cloud CLIs write) is accepted', () => {
  const conn = parseKubeconfig(
    kubeconfig(
      '',
      ', exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: aws, args: [eks, get-token]}',
    ),
    '/k',
    () => Buffer.alloc(0),
  );
  assert.equal(conn.exec?.apiVersion, 'client.authentication.k8s.io/v1beta1');
  assert.equal(conn.exec?.command, 'aws');
});

test('an exec credential plugin is read: command relative to the kubeconfig, args, env', () => {
  const conn = parseKubeconfig(
    kubeconfig(
      '',
      ', exec: {apiVersion: client.authentication.k8s.io/v1, command: ./bin/get-token, args: [--x], env: [{name: A, value: b}]}',
    ),
    '/etc/kube/k',
    () => Buffer.alloc(0),
  );
  assert.deepEqual(conn.exec, {
    apiVersion: 'client.authentication.k8s.io/v1',
    command: '/etc/kube/bin/get-token',
    args: ['--x'],
    env: [{ name: 'A', value: 'b' }],
  });
});
