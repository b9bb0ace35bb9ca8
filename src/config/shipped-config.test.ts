// The configs deploy/ ships turn the tenant policy on (docs/security.md): each parses as the node
// would parse it, with a policy that trusts only named namespaces.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { multinetOptionsFromText } from '../cli/multinet-options.ts';
import { parseDaemonConfig } from './daemon-config.ts';
import type { EngineOptions } from './multinet-config.ts';
import { parseMultinetConfig } from './multinet-config.ts';

function configMapData(dir: string): Record<string, string> {
  const text = readFileSync(new URL(`../../deploy/${dir}/daemonset.yaml`, import.meta.url), 'utf8');
  const docs = parseAllDocuments(text).map(
    (d) => d.toJS() as { kind?: string; data?: Record<string, string> },
  );
  const cm = docs.find((d) => d.kind === 'ConfigMap');
  assert.ok(cm?.data, `deploy/${dir} has a ConfigMap`);
  return cm.data;
}

function assertPolicyOn(config: EngineOptions, where: string): void {
  const policy = config.tenantPolicy;
  assert.ok(policy, `${where}: tenantPolicy is set`);
  assert.ok(!policy.trustedNamespaces.includes('*'), `${where}: not every namespace is trusted`);
  assert.ok(policy.trustedNamespaces.includes('kube-system'), where);
  for (const dangerous of ['host-device', 'bridge', 'portmap', 'dhcp', 'sriov', 'multinet'])
    assert.ok(!policy.allowedTypes.includes(dangerous), `${where}: ${dangerous} needs a rule`);
}

describe('deploy/ turns the tenant policy on', () => {
  for (const dir of ['thick', 'openshift'])
    it(`deploy/${dir}`, () => {
      assertPolicyOn(parseDaemonConfig(configMapData(dir)['daemon.json']!).engine, dir);
    });

  it('deploy/thin', () => {
    const text = configMapData('thin')['00-multinet.conflist']!;
    assertPolicyOn(parseMultinetConfig(multinetOptionsFromText(text, 'thin')).engine, 'thin');
  });
});

interface Mount {
  name: string;
  mountPath: string;
}
interface NodeDaemonSet {
  kind: 'DaemonSet';
  spec: {
    updateStrategy?: { type?: string };
    template: {
      spec: {
        containers: {
          name: string;
          volumeMounts: Mount[];
          livenessProbe?: unknown;
          readinessProbe?: unknown;
        }[];
        volumes: { name: string; hostPath?: { path: string } }[];
      };
    };
  };
}

function daemonSet(dir: string): NodeDaemonSet {
  const text = readFileSync(new URL(`../../deploy/${dir}/daemonset.yaml`, import.meta.url), 'utf8');
  const ds = parseAllDocuments(text)
    .map((d) => d.toJS() as { kind?: string })
    .find((d) => d.kind === 'DaemonSet');
  assert.ok(ds, `deploy/${dir} has a DaemonSet`);
  return ds as NodeDaemonSet;
}

// The delegates run inside the daemon's container, so every path they or the daemon keep state in
// must be the host's own, at the same path: otherwise a restart of the container forgets
// host-local's reservations (duplicate addresses) or multinet's plans (leaks on DEL).
describe('deploy/ thick DaemonSets keep state on the host and are probed', () => {
  for (const dir of ['thick', 'openshift'])
    it(`deploy/${dir}`, () => {
      const ds = daemonSet(dir);
      const pod = ds.spec.template.spec;
      const daemon = pod.containers.find((c) => c.name === 'multinet');
      assert.ok(daemon, `${dir}: the multinet container`);
      const hostPathOf = (mountPath: string) => {
        const m = daemon.volumeMounts.find((v) => v.mountPath === mountPath);
        return m && pod.volumes.find((v) => v.name === m.name)?.hostPath?.path;
      };
      const config = parseDaemonConfig(configMapData(dir)['daemon.json']!);
      const socketDir = config.socketPath.slice(0, config.socketPath.lastIndexOf('/'));
      for (const path of [
        '/var/lib/cni',
        config.adapters.cacheDir,
        socketDir,
        ...config.engine.binDirs,
        '/var/lib/kubelet/pod-resources',
        '/var/run/k8s.cni.cncf.io/devinfo',
        '/var/run/netns',
      ])
        assert.equal(hostPathOf(path), path, `${dir}: ${path} is the host's ${path}`);
      assert.ok(daemon.livenessProbe && daemon.readinessProbe, `${dir}: probed`);
      assert.equal(ds.spec.updateStrategy?.type, 'RollingUpdate', `${dir}: rolls`);
    });
});
