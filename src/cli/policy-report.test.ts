// `multinet validate --config` and `multinet explain --config` report what the tenant policy in
// multinet's config would refuse, with the same evaluator ADD uses.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { FileConfSource } from '../host/file-conf-source.ts';
import { explainPod } from './explain-command.ts';
import { runCli } from './run-cli.ts';
import { runValidate } from './validate-command.ts';

const options = {
  clusterNetworkConfig: { cniVersion: '1.0.0', name: 'podnet', type: 'bridge', bridge: 'cni0' },
  tenantPolicy: {
    allowedTypes: ['macvlan', 'host-local'],
    rules: [{ namespaces: ['team-a'], masters: ['ens1'], hostPorts: ['8080'] }],
  },
};
const nad = (namespace: string, name: string, config: object) => ({
  apiVersion: 'k8s.cni.cncf.io/v1',
  kind: 'NetworkAttachmentDefinition',
  metadata: { name, namespace },
  spec: { config: JSON.stringify({ cniVersion: '1.0.0', ...config }) },
});
const hd = nad('team-a', 'hd', { type: 'host-device', device: 'eth1' });
const mv = nad('team-a', 'mv', { type: 'macvlan', master: 'ens1' });
const copy = nad('team-a', 'copy', { name: 'podnet', type: 'macvlan', master: 'ens1' });
const admin = nad('kube-system', 'pm', { type: 'portmap', capabilities: { portMappings: true } });
const pod = (networks: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web', namespace: 'team-a', annotations: { 'k8s.v1.cni.cncf.io/networks': networks } },
});
const yaml = (...objs: object[]) => objs.map((o) => stringify(o)).join('---\n');

describe('validate --config: the tenant policy', () => {
  it('reports refused NADs and pods, and nothing without --config', () => {
    const file = {
      path: 'm.yaml',
      content: yaml(
        hd,
        mv,
        copy,
        admin,
        pod('[{"name":"pm","namespace":"kube-system","portMappings":[{"hostPort":22,"containerPort":80}]}]'),
      ),
    };
    assert.deepEqual(runValidate([file]), { lines: [], exitCode: 0 });
    const { lines, exitCode } = runValidate([file], { options });
    assert.equal(exitCode, 1);
    assert.deepEqual(lines, [
      'm.yaml: NetworkAttachmentDefinition team-a/hd: spec.config: the tenant policy refuses config type "host-device": type "host-device" is in neither tenantPolicy.allowedTypes nor the types of tenantPolicy.rules[0] (the rules for namespace "team-a")',
      'm.yaml: NetworkAttachmentDefinition team-a/copy: spec.config: the tenant policy refuses CNI network name "podnet": the name of the cluster network, of a defaultNetworks network, of a file in confDir or of tenantPolicy.reservedNetworkNames is reserved to the administrator (the name keys IPAM pools and caches)',
      `m.yaml: Pod team-a/web: metadata.annotations["k8s.v1.cni.cncf.io/networks"]: network kube-system/pm: the tenant policy refuses the pod's portMappings hostPort 22: 22 is not in the hostPorts of tenantPolicy.rules[0] (the rules for namespace "team-a")`,
    ]);
  });

  it('says when the config has no tenantPolicy (everything is trusted)', () => {
    const { lines, exitCode } = runValidate([{ path: 'm.yaml', content: yaml(hd) }], {
      options: { clusterNetwork: 'x' },
    });
    assert.equal(exitCode, 0);
    assert.match(lines[0]!, /no tenantPolicy: every namespace's NADs are trusted/);
  });

  it('the CLI reads --config from a conflist or a daemon config', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mn-policy-'));
    try {
      const conf = join(dir, '00-multinet.conflist');
      await writeFile(
        conf,
        JSON.stringify({ cniVersion: '1.0.0', name: 'm', plugins: [{ type: 'multinet', ...options }] }),
      );
      await writeFile(join(dir, 'm.yaml'), yaml(hd));
      let out = '';
      const io = {
        stdout: (s: string) => (out += s),
        stderr: (s: string) => (out += s),
        env: {},
        isTty: false,
      };
      assert.equal(await runCli(['validate', '--config', conf, join(dir, 'm.yaml')], io), 1);
      assert.match(out, /team-a\/hd: spec.config: the tenant policy refuses config type "host-device"/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('validate --config: namespaceIsolation and maxNetworkConfigBytes', () => {
  it("reports a pod selecting another namespace's network, and the override's own rule", () => {
    const file = {
      path: 'p.yaml',
      content: yaml(pod('team-b/mv, default/shared, mv'), {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: 'over',
          namespace: 'team-a',
          annotations: { 'v1.multus-cni.io/default-network': 'podnet' },
        },
      }),
    };
    assert.deepEqual(runValidate([file]), { lines: [], exitCode: 0 });
    const isolated = { ...options, namespaceIsolation: true };
    const { lines, exitCode } = runValidate([file], { options: isolated });
    assert.equal(exitCode, 1);
    // default is a global namespace, and an override may name multinetNamespace (kube-system).
    assert.deepEqual(lines, [
      'p.yaml: Pod team-a/web: metadata.annotations["k8s.v1.cni.cncf.io/networks"]: network team-b/mv: namespaceIsolation is on: pods in namespace "team-a" may only use networks from their own namespace or from default',
    ]);
  });

  it('reports a spec.config over the limit ADD enforces', () => {
    const big = nad('team-a', 'big', { type: 'macvlan', master: 'ens1', pad: 'x'.repeat(70_000) });
    const file = { path: 'b.yaml', content: yaml(big) };
    const bytes = Buffer.byteLength(big.spec.config);
    assert.deepEqual(runValidate([file]).lines, [
      `b.yaml: NetworkAttachmentDefinition team-a/big: spec.config: ${bytes} bytes; the limit is 65536 (maxNetworkConfigBytes)`,
    ]);
    assert.deepEqual(runValidate([file], { options: { ...options, maxNetworkConfigBytes: 128 * 1024 } }), {
      lines: [],
      exitCode: 0,
    });
  });
});

describe('explain --config: the tenant policy', () => {
  it('marks the attachments ADD would refuse', async () => {
    const out = await explainPod({
      pod: pod('hd,mv'),
      objects: [hd, mv],
      confs: new FileConfSource(),
      options,
    });
    assert.deepEqual(
      out.map((a) => [a.network, a.refused]),
      [
        ['(cluster default network)', undefined],
        [
          'team-a/hd',
          'the tenant policy refuses config type "host-device": type "host-device" is in neither tenantPolicy.allowedTypes nor the types of tenantPolicy.rules[0] (the rules for namespace "team-a")',
        ],
        ['team-a/mv', undefined],
      ],
    );
  });

  it('the CLI prints REFUSED lines and exits 1', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mn-explain-policy-'));
    try {
      const conf = join(dir, 'daemon.json');
      await writeFile(conf, JSON.stringify(options));
      await writeFile(join(dir, 'pod.yaml'), yaml(pod('hd')));
      await writeFile(join(dir, 'nads.yaml'), yaml(hd, mv));
      let out = '';
      const io = {
        stdout: (s: string) => (out += s),
        stderr: (s: string) => (out += s),
        env: {},
        isTty: false,
      };
      const args = ['explain', '--pod', join(dir, 'pod.yaml'), '--nads', join(dir, 'nads.yaml')];
      assert.equal(await runCli(args, io), 0, 'without --config nothing is refused');
      assert.doesNotMatch(out, /REFUSED/);
      out = '';
      assert.equal(await runCli([...args, '--config', conf], io), 1);
      assert.match(out, /REFUSED net1 \(team-a\/hd\): the tenant policy refuses config type "host-device"/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
