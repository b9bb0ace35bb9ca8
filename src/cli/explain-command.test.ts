import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FileConfSource } from '../host/file-conf-source.ts';
import { explainPod, formatExplanation } from './explain-command.ts';
import { runCli } from './run-cli.ts';

const nad = (name: string, config: object) => ({
  apiVersion: 'k8s.cni.cncf.io/v1',
  kind: 'NetworkAttachmentDefinition',
  metadata: { name, namespace: 'team-a' },
  spec: { config: JSON.stringify(config) },
});

const objects = [
  nad('data', {
    cniVersion: '1.0.0',
    name: 'data',
    plugins: [
      { type: 'bridge', bridge: 'br1', ipam: { type: 'host-local', subnet: '10.10.0.0/24' } },
      { type: 'tuning', capabilities: { mac: true } },
    ],
  }),
  nad('storage', { cniVersion: '0.3.1', type: 'macvlan', master: 'ens1', args: { cni: { keep: 1 } } }),
];

const pod = (networks: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web', namespace: 'team-a', annotations: { 'k8s.v1.cni.cncf.io/networks': networks } },
});

describe('explain', () => {
  it('shows each delegate the exact stdin it would get: name, version, injected runtimeConfig and cni-args', async () => {
    const out = await explainPod({
      pod: pod(
        '[{"name":"data","mac":"02:00:00:00:00:10"},{"name":"storage","interface":"st0","cni-args":{"vlan":"7"}}]',
      ),
      objects,
      confs: new FileConfSource(),
    });
    assert.deepEqual(
      out.map((a) => [a.interface, a.network, a.default]),
      [
        ['eth0', '(cluster default network)', true],
        ['net1', 'team-a/data', false],
        ['st0', 'team-a/storage', false],
      ],
    );
    const [bridge, tuning] = out[1]!.config!;
    assert.equal(bridge!['name'], 'data');
    assert.equal(bridge!['runtimeConfig'], undefined, 'bridge does not declare mac');
    assert.deepEqual(tuning!['runtimeConfig'], { mac: '02:00:00:00:00:10' });
    assert.equal(tuning!['capabilities'], undefined, 'capabilities are not sent (CNI spec §3)');
    const [macvlan] = out[2]!.config!;
    assert.equal(macvlan!['name'], 'storage', 'name injected from the NAD');
    assert.deepEqual(macvlan!['args'], { cni: { keep: 1, vlan: '7' } });
    assert.match(formatExplanation(out), /st0\s+team-a\/storage\s+no\s+macvlan/);
  });

  it('warns about an additional network that adds a default route the pod did not ask for', async () => {
    const routed = nad('lan', {
      cniVersion: '0.3.1',
      type: 'macvlan',
      master: 'eth0',
      ipam: { type: 'host-local', subnet: '192.168.1.0/24', routes: [{ dst: '0.0.0.0/0' }] },
    });
    const plain = await explainPod({
      pod: pod('lan,storage'),
      objects: [...objects, routed],
      confs: new FileConfSource(),
    });
    assert.deepEqual(
      plain.map((a) => [a.interface, a.warning !== undefined]),
      [
        ['eth0', false],
        ['net1', true],
        ['net2', false],
      ],
    );
    assert.match(
      plain[1]!.warning!,
      /default route via net1 \(plugins\[0\] \(macvlan\): ipam\.routes dst 0\.0\.0\.0\/0\)/,
    );
    assert.match(formatExplanation(plain), /^warning: net1 \(team-a\/lan\) adds a default route/m);
    // Chosen with default-route (on any element): ADD keeps only that route, nothing to warn about.
    const chosen = await explainPod({
      pod: pod('[{"name":"lan","default-route":[]},{"name":"storage"}]'),
      objects: [...objects, routed],
      confs: new FileConfSource(),
    });
    assert.deepEqual(
      chosen.map((a) => a.warning),
      [undefined, undefined, undefined],
    );
  });

  it('uses a default network file and prints JSON with -o json', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mn-explain-'));
    try {
      const podFile = join(dir, 'pod.yaml');
      const nadFile = join(dir, 'nads.json');
      const defFile = join(dir, '10-default.conflist');
      await writeFile(podFile, JSON.stringify(pod('storage')));
      await writeFile(nadFile, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
      await writeFile(
        defFile,
        JSON.stringify({ cniVersion: '1.0.0', name: 'podnet', plugins: [{ type: 'ptp' }] }),
      );
      let stdout = '';
      const code = await runCli(
        ['explain', '--pod', podFile, '--nads', nadFile, '--default-network', defFile, '-o', 'json'],
        {
          stdout: (s) => (stdout += s),
          stderr: () => {},
          env: {},
          isTty: false,
        },
      );
      assert.equal(code, 0);
      const parsed = JSON.parse(stdout) as {
        attachments: { network: string; interface: string; default: boolean; config: object[] }[];
      };
      assert.deepEqual(
        parsed.attachments.map((a) => [a.network, a.interface, a.default]),
        [
          ['podnet', 'eth0', true],
          ['team-a/storage', 'net1', false],
        ],
      );
      assert.deepEqual(parsed.attachments[0]!.config, [{ type: 'ptp', name: 'podnet', cniVersion: '1.0.0' }]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fails with the engine error for an unknown network', async () => {
    await assert.rejects(
      explainPod({ pod: pod('nope'), objects, confs: new FileConfSource() }),
      /network team-a\/nope/,
    );
  });

  it('--nads takes a directory of manifests; a missing path is said in words, not as an errno', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mn-explain-'));
    try {
      const podFile = join(dir, 'pod.yaml');
      await mkdir(join(dir, 'nads'));
      await writeFile(podFile, JSON.stringify(pod('storage')));
      await writeFile(
        join(dir, 'nads', 'all.json'),
        JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }),
      );
      await writeFile(join(dir, 'nads', 'README.txt'), 'not a manifest');
      let stdout = '';
      let stderr = '';
      const io = {
        stdout: (s: string) => (stdout += s),
        stderr: (s: string) => (stderr += s),
        env: {},
        isTty: false,
      };
      assert.equal(
        await runCli(['explain', '--pod', podFile, '--nads', join(dir, 'nads'), '-o', 'json'], io),
        0,
        stderr,
      );
      assert.deepEqual(
        (JSON.parse(stdout) as { attachments: { network: string }[] }).attachments.map((a) => a.network),
        ['(cluster default network)', 'team-a/storage'],
      );
      stderr = '';
      assert.equal(await runCli(['explain', '--pod', podFile, '--nads', join(dir, 'nope')], io), 1);
      assert.match(stderr, /cannot read .*nope: no such file or directory/);
      assert.doesNotMatch(stderr, /ENOENT|EISDIR/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('NAMESPACE/POD reads the API server: without a kubeconfig, or with --nads, it says what to give', async () => {
    let stderr = '';
    const io = { stdout: () => {}, stderr: (s: string) => (stderr += s), env: {}, isTty: false };
    assert.equal(await runCli(['explain', 'team-a/web'], io), 1);
    assert.match(
      stderr,
      /team-a\/web names a pod in the API server: give --kubeconfig FILE \(or set KUBECONFIG\)/,
    );
    stderr = '';
    assert.equal(
      await runCli(['explain', '--pod', 'team-a/web', '--nads', 'n.yaml', '--kubeconfig', 'k'], io),
      1,
    );
    assert.match(stderr, /--nads is for a Pod manifest/);
    stderr = '';
    assert.equal(await runCli(['explain', '--pod', 'team-a/web', 'team-a/other'], io), 2);
    assert.match(stderr, /usage: multinet explain/);
    stderr = '';
    // Not NAMESPACE/NAME and no such file: read as a file, and said so.
    assert.equal(await runCli(['explain', './team-a/web.yaml'], io), 1);
    assert.match(stderr, /cannot read \.\/team-a\/web\.yaml: no such file or directory/);
  });
});

describe('explain: the device each attachment would get', () => {
  const sriovNad = (name: string) => ({
    ...nad(name, { cniVersion: '1.0.0', type: 'host-device' }),
    metadata: {
      name,
      namespace: 'team-a',
      annotations: { 'k8s.v1.cni.cncf.io/resourceName': 'vendor.example/nic' },
    },
  });
  const claim = {
    apiVersion: 'resource.k8s.io/v1',
    kind: 'ResourceClaim',
    metadata: { name: 'web-nics', namespace: 'team-a' },
    status: {
      allocation: {
        devices: {
          results: [
            { request: 'nic', driver: 'nic.example', pool: 'node-1', device: 'dev-a' },
            { request: 'nic', driver: 'nic.example', pool: 'node-1', device: 'dev-b' },
          ],
        },
      },
    },
  };
  const sliceDevice = (name: string, id: string) => ({
    name,
    attributes: {
      'k8s.cni.cncf.io/resourceName': { string: 'vendor.example/nic' },
      'k8s.cni.cncf.io/deviceID': { string: id },
    },
  });
  const slice = (nodeName: string, ids: [string, string]) => ({
    apiVersion: 'resource.k8s.io/v1',
    kind: 'ResourceSlice',
    metadata: { name: `${nodeName}-nics` },
    spec: {
      driver: 'nic.example',
      nodeName,
      pool: { name: 'node-1', generation: 1, resourceSliceCount: 1 },
      devices: [sliceDevice('dev-a', ids[0]), sliceDevice('dev-b', ids[1])],
    },
  });
  const devicePod = (claims: boolean) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'web',
      namespace: 'team-a',
      annotations: { 'k8s.v1.cni.cncf.io/networks': 'fast,fast@fast2' },
    },
    spec: {
      nodeName: 'node-1',
      ...(claims ? { resourceClaims: [{ name: 'nics', resourceClaimName: 'web-nics' }] } : {}),
    },
  });

  it("gives each attachment its own device of the pod's DRA claim, read from the manifests", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mn-explain-dra-'));
    try {
      const podFile = join(dir, 'pod.json');
      const nadFile = join(dir, 'objects.json');
      await writeFile(podFile, JSON.stringify(devicePod(true)));
      // A slice of another node with the same pool and device names must not be used.
      const docs = [
        sriovNad('fast'),
        claim,
        slice('node-2', ['wrong-a', 'wrong-b']),
        slice('node-1', ['nic-a', 'nic-b']),
      ];
      await writeFile(nadFile, docs.map((d) => JSON.stringify(d)).join('\n---\n'));
      let stdout = '';
      let stderr = '';
      const io = {
        stdout: (s: string) => (stdout += s),
        stderr: (s: string) => (stderr += s),
        env: {},
        isTty: false,
      };
      assert.equal(
        await runCli(['explain', '--pod', podFile, '--nads', nadFile, '-o', 'json'], io),
        0,
        stderr,
      );
      const { attachments } = JSON.parse(stdout) as {
        attachments: {
          interface: string;
          device?: { id: string; from: string };
          config: Record<string, unknown>[];
        }[];
      };
      assert.deepEqual(
        attachments.slice(1).map((a) => [a.interface, a.device?.id, a.device?.from]),
        [
          ['net1', 'nic-a', 'DRA claim team-a/web-nics: nic.example/node-1/dev-a'],
          ['fast2', 'nic-b', 'DRA claim team-a/web-nics: nic.example/node-1/dev-b'],
        ],
      );
      // The config shown is what the delegate gets: deviceID injected, as at ADD.
      assert.equal(attachments[1]!.config[0]!['deviceID'], 'nic-a');
      assert.equal(attachments[2]!.config[0]!['deviceID'], 'nic-b');
      stdout = '';
      assert.equal(await runCli(['explain', '--pod', podFile, '--nads', nadFile], io), 0, stderr);
      assert.match(stdout, /INTERFACE\s+NETWORK\s+DEFAULT\s+DEVICE\s+PLUGINS/);
      assert.match(stdout, /fast2\s+team-a\/fast\s+no\s+nic-b\s+host-device/);
      assert.match(
        stdout,
        /device of net1 \(team-a\/fast, resource vendor\.example\/nic\): nic-a, allocated by DRA claim/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reads device-plugin devices from the kubelet only when given one, and says so when not', async () => {
    const objects = [sriovNad('fast')];
    const unknown = await explainPod({ pod: devicePod(false), objects, confs: new FileConfSource() });
    assert.equal(unknown[1]!.device, undefined);
    assert.match(unknown[1]!.deviceUnknown ?? '', /--pod-resources SOCKET/);
    assert.equal(unknown[1]!.refused, undefined, 'an unknown device is not a refusal');
    assert.match(formatExplanation(unknown), /net1\s+team-a\/fast\s+no\s+\(unknown\)\s+host-device/);
    const asked: string[] = [];
    // FAKE kubelet PodResources reader: the real client is tested against a gRPC server elsewhere.
    const kubelet = {
      podDevices: async (p: { namespace: string; name: string }) => {
        asked.push(`${p.namespace}/${p.name}`);
        return new Map([['vendor.example/nic', ['0000:3b:00.2', '0000:3b:00.3']]]);
      },
    };
    const known = await explainPod({
      pod: devicePod(false),
      objects,
      confs: new FileConfSource(),
      podResources: kubelet,
    });
    assert.deepEqual(asked, ['team-a/web'], 'one kubelet call for the pod');
    assert.deepEqual(
      known.slice(1).map((a) => [a.device?.id, a.device?.from]),
      [
        ['0000:3b:00.2', 'the kubelet (device plugin)'],
        ['0000:3b:00.3', 'the kubelet (device plugin)'],
      ],
    );
  });

  it('marks what ADD would refuse: fewer devices than attachments of the resource', async () => {
    const kubelet = { podDevices: async () => new Map([['vendor.example/nic', ['0000:3b:00.2']]]) };
    const out = await explainPod({
      pod: devicePod(false),
      objects: [sriovNad('fast')],
      confs: new FileConfSource(),
      podResources: kubelet,
    });
    assert.equal(out[1]!.device?.id, '0000:3b:00.2');
    assert.equal(out[2]!.device, undefined);
    assert.match(out[2]!.refused ?? '', /selects 2 networks of resource "vendor\.example\/nic".*allocated 1/);
    assert.match(formatExplanation(out), /REFUSED fast2 \(team-a\/fast\)/);
  });

  it('leaves the device unknown when the claim is not allocated yet (ADD would retry)', async () => {
    const pending = { ...claim, status: {} };
    const out = await explainPod({
      pod: devicePod(true),
      objects: [sriovNad('fast'), pending, slice('node-1', ['nic-a', 'nic-b'])],
      confs: new FileConfSource(),
      draSources: (await import('./explain-devices.ts')).manifestDraSources([
        pending,
        slice('node-1', ['nic-a', 'nic-b']),
      ]),
    });
    assert.equal(out[1]!.device, undefined);
    assert.match(out[1]!.deviceUnknown ?? '', /ResourceClaim team-a\/web-nics is not allocated/);
    assert.equal(out[1]!.refused, undefined);
  });
});
