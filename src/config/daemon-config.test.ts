import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseDaemonConfig, parseListenAddress } from './daemon-config.ts';
import { ConfigError, parseMultinetConfig } from './multinet-config.ts';

describe('device-plugin keys (docs/devices.md), in the daemon config and the thin plugin object alike', () => {
  it('default to the kubelet and device-info spec paths, and take absolute paths', () => {
    const d = parseDaemonConfig('{}');
    assert.equal(d.adapters.podResourcesSocket, '/var/lib/kubelet/pod-resources/kubelet.sock');
    assert.equal(d.engine.deviceInfoDir, '/var/run/k8s.cni.cncf.io/devinfo');
    const c = parseDaemonConfig(
      '{"podResourcesSocket":"/run/k/kubelet.sock","deviceInfoDir":"/run/devinfo"}',
    );
    assert.equal(c.adapters.podResourcesSocket, '/run/k/kubelet.sock');
    assert.equal(c.engine.deviceInfoDir, '/run/devinfo');
    const thin = parseMultinetConfig({ clusterNetwork: 'x', podResourcesSocket: '/p.sock' });
    assert.equal(thin.adapters.podResourcesSocket, '/p.sock');
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

  it('hot-plug is off by default; "hotplug": true turns it on, not in local mode', () => {
    assert.equal(parseDaemonConfig('{}').hotplug, false);
    assert.equal(parseDaemonConfig('{"hotplug":true}').hotplug, true);
    assert.throws(
      () => parseDaemonConfig('{"hotplug":"yes"}'),
      (err: Error) => err instanceof ConfigError && /hotplug.*must be a boolean/.test(err.message),
    );
    assert.throws(
      () => parseDaemonConfig('{"hotplug":true,"localDir":"/srv/manifests"}'),
      (err: Error) => err instanceof ConfigError && /hotplug.*local mode/.test(err.message),
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

describe('unknown keys: reported by name, never fatal', () => {
  it('the thin plugin object: a misspelt option, but not the CNI keys the runtime and the shim add', () => {
    const c = parseMultinetConfig({
      cniVersion: '1.0.0',
      name: 'multinet',
      type: 'multinet',
      capabilities: { portMappings: true },
      runtimeConfig: { portMappings: [] },
      args: { cni: {} },
      clusterNetwork: 'x',
      namespaceIsolaton: true,
      'cni.dev/valid-attachments': [],
    });
    assert.deepEqual(c.unknownKeys, ['namespaceIsolaton']);
    assert.equal(c.engine.namespaceIsolation, false, 'the misspelt key did nothing');
  });

  it('the daemon config: engine keys and daemon keys are known, anything else is named', () => {
    const c = parseDaemonConfig(
      JSON.stringify({
        namespaceIsolation: true,
        maxConcurrentRequests: 4,
        cniConfDir: '/etc/cni/net.d',
        checkInterval: 5,
        type: 'multinet',
      }),
    );
    assert.deepEqual(c.unknownKeys, ['checkInterval', 'type']);
    assert.equal(c.maxConcurrentRequests, 4);
  });

  it('the configs deploy/ ships have none', () => {
    const read = (dir: string) =>
      readFileSync(new URL(`../../deploy/${dir}/daemonset.yaml`, import.meta.url), 'utf8');
    for (const dir of ['thick', 'openshift']) {
      const json = /daemon\.json: \|\n((?: {4}.*\n?)+)/.exec(read(dir))?.[1];
      assert.ok(json, `deploy/${dir} has a daemon.json`);
      assert.deepEqual(parseDaemonConfig(json).unknownKeys, [], dir);
    }
  });
});

describe('the default network is checked by who needs it, with no placeholder', () => {
  it('the thin plugin needs one; the daemon with autoConfig does not, and keeps none', () => {
    assert.throws(() => parseMultinetConfig({}), /key "clusterNetwork": no default network/);
    const d = parseDaemonConfig('{}');
    assert.equal(d.engine.clusterNetwork, '');
    assert.equal(d.engine.clusterNetworkConfig, undefined);
    assert.ok(d.autoConfig);
  });
});

describe('messages name the key and say what is wrong, as before the schemas', () => {
  const cases: [Record<string, unknown>, string][] = [
    [
      { kubeconfig: 'relative' },
      'multinet config: key "kubeconfig": must be an absolute path, got "relative"',
    ],
    [{ kubeconfig: 7 }, 'multinet config: key "kubeconfig": must be a string, got number'],
    [{ namespaceIsolation: 'yes' }, 'multinet config: key "namespaceIsolation": must be a boolean'],
    [
      { globalNamespaces: [1] },
      'multinet config: key "globalNamespaces": must be a list of strings (or a comma-separated string)',
    ],
    [
      { delegateTimeoutSeconds: 0 },
      'multinet config: key "delegateTimeoutSeconds": must be a number of seconds between 0 and 3600',
    ],
    [{ events: 'some' }, 'multinet config: key "events": must be one of all, warnings, none, got "some"'],
    [
      { clusterNetworkConfig: [] },
      'multinet config: key "clusterNetworkConfig": must be a CNI config object',
    ],
    [{ cacheDir: '' }, 'multinet config: key "cacheDir": must not be empty'],
  ];
  for (const [raw, message] of cases)
    it(message, () => {
      assert.throws(
        () => parseMultinetConfig({ clusterNetwork: 'x', ...raw }),
        (err: unknown) => {
          assert.ok(err instanceof ConfigError);
          assert.equal(err.message, message);
          return true;
        },
      );
    });

  it('the daemon keys too, and the values they take', () => {
    assert.throws(() => parseDaemonConfig('{"maxQueuedRequests":"9"}'), {
      message: 'multinet config: key "maxQueuedRequests": must be a number, got string',
    });
    assert.throws(() => parseDaemonConfig('{"queueTimeoutSeconds":601}'), {
      message: 'multinet config: key "queueTimeoutSeconds": must be an integer from 1 to 600, got 601',
    });
    assert.throws(
      () => parseDaemonConfig('{"maxConcurrentRequests":8,"maxConcurrentRequestsPerNamespace":9}'),
      {
        message:
          'multinet config: key "maxConcurrentRequestsPerNamespace": must be an integer from 1 to 8, got 9',
      },
    );
    const c = parseDaemonConfig(
      '{"globalNamespaces":"default, openshift-multus","namespaceIsolation":"TRUE","delegateTimeoutSeconds":1.5}',
    );
    assert.deepEqual(c.engine.globalNamespaces, ['default', 'openshift-multus']);
    assert.equal(c.engine.namespaceIsolation, true);
    assert.equal(c.adapters.delegateTimeoutMs, 1500);
    assert.equal(c.maxConcurrentRequestsPerNamespace, 24);
    assert.equal(c.maxQueuedRequestsPerNamespace, 128);
  });
});
