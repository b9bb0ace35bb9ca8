import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDaemonConfig, parseListenAddress } from './daemon-config.ts';
import { ConfigError, parseMultinetConfig } from './multinet-config.ts';

describe('device-plugin keys (docs/devices.md), in the daemon config and the thin plugin object alike', () => {
  it('default to the kubelet and device-info spec paths, and take absolute paths', () => {
    const d = parseDaemonConfig('{}').engine;
    assert.equal(d.podResourcesSocket, '/var/lib/kubelet/pod-resources/kubelet.sock');
    assert.equal(d.deviceInfoDir, '/var/run/k8s.cni.cncf.io/devinfo');
    const c = parseDaemonConfig(
      '{"podResourcesSocket":"/run/k/kubelet.sock","deviceInfoDir":"/run/devinfo"}',
    ).engine;
    assert.equal(c.podResourcesSocket, '/run/k/kubelet.sock');
    assert.equal(c.deviceInfoDir, '/run/devinfo');
    const thin = parseMultinetConfig({ clusterNetwork: 'x', podResourcesSocket: '/p.sock' });
    assert.equal(thin.podResourcesSocket, '/p.sock');
  });
  it('refuse a relative path, a non-string, and / itself, naming the key', () => {
    for (const [key, value] of [
      ['podResourcesSocket', 'kubelet.sock'],
      ['podResourcesSocket', 5],
      ['deviceInfoDir', '/'],
      ['deviceInfoDir', 'devinfo'],
    ] as const)
      assert.throws(
        () => parseDaemonConfig(JSON.stringify({ [key]: value })),
        (err: unknown) => err instanceof ConfigError && err.key === key,
        `${key}=${JSON.stringify(value)}`,
      );
  });
});

describe('parseDaemonConfig', () => {
  it('defaults to automatic configuration when no default network is set', () => {
    const c = parseDaemonConfig('{}');
    assert.equal(c.socketPath, '/run/multinet/multinet.sock');
    assert.equal(c.maxConcurrentRequests, 32);
    assert.equal(c.metricsAddress, '127.0.0.1:9091');
    assert.deepEqual(c.autoConfig, {
      cniConfDir: '/etc/cni/net.d',
      primaryConfDir: '/etc/cni/net.d',
      fileName: '00-multinet.conflist',
      networkName: 'multinet-cni-network',
      primaryConfigName: '',
      rescanIntervalMs: 5000,
    });
    assert.equal(c.engine.clusterNetworkConfig, undefined);
  });

  it('takes the OpenShift layout and engine options', () => {
    const c = parseDaemonConfig(
      JSON.stringify({
        cniConfDir: '/etc/kubernetes/cni/net.d',
        primaryConfDir: '/var/run/multus/cni/net.d',
        binDir: '/var/lib/cni/bin',
        namespaceIsolation: true,
        maxConcurrentRequests: 4,
        nodeName: 'worker-1',
      }),
    );
    assert.equal(c.autoConfig?.cniConfDir, '/etc/kubernetes/cni/net.d');
    assert.equal(c.autoConfig?.primaryConfDir, '/var/run/multus/cni/net.d');
    assert.deepEqual(c.engine.binDirs, ['/var/lib/cni/bin']);
    assert.equal(c.engine.namespaceIsolation, true);
    assert.equal(c.maxConcurrentRequests, 4);
    assert.equal(c.nodeName, 'worker-1');
  });

  it('turns autoConfig off when clusterNetwork is given, and requires one when off', () => {
    assert.equal(parseDaemonConfig('{"clusterNetwork":"/etc/cni/net.d/10-a.conf"}').autoConfig, undefined);
    assert.throws(() => parseDaemonConfig('{"autoConfig":false}'), ConfigError);
  });

  it('names the bad key', () => {
    assert.throws(() => parseDaemonConfig('{"maxConcurrentRequests":0}'), /maxConcurrentRequests/);
    assert.throws(() => parseDaemonConfig('{"cniConfDir":"relative"}'), /cniConfDir/);
    assert.throws(() => parseDaemonConfig('{"generatedConfigName":"../x"}'), /generatedConfigName/);
    assert.throws(() => parseDaemonConfig('not json'), /not valid JSON/);
  });

  it('continuous CHECK is off by default; checkIntervalSeconds turns it on, validated', () => {
    assert.equal(parseDaemonConfig('{}').checkIntervalMs, 0);
    assert.equal(parseDaemonConfig('{"checkIntervalSeconds":60}').checkIntervalMs, 60_000);
    assert.equal(parseDaemonConfig('{"checkIntervalSeconds":0}').checkIntervalMs, 0);
    for (const bad of ['-1', '1.5', '86401', '"60"', 'true'])
      assert.throws(
        () => parseDaemonConfig(`{"checkIntervalSeconds":${bad}}`),
        (err: Error) => err instanceof ConfigError && /checkIntervalSeconds/.test(err.message),
        bad,
      );
  });

  it('keeps metrics on loopback unless explicitly allowed', () => {
    assert.deepEqual(parseListenAddress('127.0.0.1:9091', false), { host: '127.0.0.1', port: 9091 });
    assert.deepEqual(parseListenAddress('[::1]:9091', false), { host: '::1', port: 9091 });
    assert.throws(() => parseDaemonConfig('{"metricsAddress":"0.0.0.0:9091"}'), /not a loopback/);
    assert.equal(
      parseDaemonConfig('{"metricsAddress":"0.0.0.0:9091","metricsAllowNonLoopback":true}').metricsAddress,
      '0.0.0.0:9091',
    );
    assert.throws(() => parseListenAddress('nonsense', false), /host:port/);
  });
});
