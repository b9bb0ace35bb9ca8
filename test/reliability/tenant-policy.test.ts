/**
 * A hostile tenant against the trust boundary (docs/security.md), on the real daemon with the
 * reference plugins in a node namespace and a real kube-apiserver. The tenant is a ServiceAccount
 * allowed only pods and NADs in its own namespace (test/support/tenant.ts): it writes its NADs and
 * pods itself; the administrator's NADs live in `net-admin` (trusted, global).
 * - cni-args must not carry a MAC on a network without the `mac` capability (issue 10 item 6);
 * - a config-less NAD must not use an administrator's confDir file meant for another namespace
 *   (item 7);
 * - host-device, bridge, portmap and CNI network names: the tenant policy refuses what its rules
 *   do not allow, naming the pod, the network, the field and the rule (item 8).
 * Every refusal is code 7 before any plugin runs: nothing is left behind.
 */
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import { scrape, waitFor } from '../integration/daemon-harness.ts';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { runCni, type CniOutcome } from '../support/cni-runtime.ts';
import { startControlPlane, type ControlPlane } from '../support/control-plane.ts';
import { forwardApiForFaults } from '../support/fault-api.ts';
import { recordLeaks, scenario } from '../support/fault-report.ts';
import {
  bridgeNet,
  buildThinPlugin,
  FaultScene,
  leakList,
  podArgs,
  type SceneOptions,
} from '../support/fault-scene.ts';
import type { KubeClient, KubeObject } from '../support/kube-client.ts';
import { linkIn, linksIn, type NetnsTopology } from '../support/netns.ts';
import { createTenant } from '../support/tenant.ts';

const NODE = 'node-tenant';
const ADMIN_NS = 'net-admin';

const nad = (namespace: string, name: string, config?: Record<string, unknown>): KubeObject => ({
  apiVersion: 'k8s.cni.cncf.io/v1',
  kind: 'NetworkAttachmentDefinition',
  metadata: { namespace, name },
  spec: config ? { config: JSON.stringify({ cniVersion: '1.0.0', ...config }) } : {},
});

const hostLocal = (topo: NetnsTopology, subnet: string) => ({
  type: 'host-local',
  ranges: [[{ subnet }]],
  dataDir: topo.dataDir,
});

describe('a hostile tenant: cni-args, confDir files, the tenant policy', { timeout: 300_000 }, () => {
  let cp: ControlPlane;
  let teamA: KubeClient;
  let teamB: KubeClient;
  before(async () => {
    cp = await startControlPlane();
    await cp.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ADMIN_NS } });
    teamA = await createTenant(cp, 'team-a');
    teamB = await createTenant(cp, 'team-b');
  });
  after(async () => {
    teamA?.close();
    teamB?.close();
    await cp?.stop();
  });

  /** A node whose daemon reads this control plane, with isolation and the shipped kind of policy. */
  async function node(
    t: Parameters<typeof FaultScene.create>[0],
    subnet: number,
    build: (topo: NetnsTopology) => Partial<SceneOptions>,
    policyRule: (topo: NetnsTopology) => Record<string, unknown> = () => ({}),
  ) {
    const s = await FaultScene.create(t, (topo) => ({
      primary: bridgeNet(topo, 'podnet', `10.${subnet}.0.0/24`, `mnt${subnet}`),
      bridges: [`mnt${subnet}`],
      ...build(topo),
      daemon: {
        kubeconfig: cp.multinetKubeconfig,
        nodeName: NODE,
        namespaceIsolation: true,
        globalNamespaces: [ADMIN_NS],
        tenantPolicy: {
          trustedNamespaces: ['kube-system', ADMIN_NS],
          allowedTypes: ['macvlan', 'bridge', 'host-device', 'portmap', 'host-local', 'tuning'],
          rules: [{ namespaces: ['team-a'], paths: [topo.dataDir], ...policyRule(topo) }],
        },
      },
    }));
    t.after(await forwardApiForFaults(cp.server, s.topo.node, s.topo.tmpDir));
    const daemon = await s.start();
    const port = await daemon.metricsPort();
    await waitFor('caches synced', () => /"ready":true/.test(scrape(s.topo, port, '/readyz')), 20_000);
    return s;
  }

  /** The tenant creates its pod on this node; the runtime then ADDs it. */
  async function addPod(
    s: FaultScene,
    client: KubeClient,
    namespace: string,
    name: string,
    networks: unknown,
  ): Promise<{
    out: CniOutcome;
    args: Record<string, string>;
    pod: Awaited<ReturnType<NetnsTopology['addPod']>>;
  }> {
    const created = await client.create<KubeObject>({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        namespace,
        name,
        annotations: {
          'k8s.v1.cni.cncf.io/networks': typeof networks === 'string' ? networks : JSON.stringify(networks),
        },
      },
      spec: { nodeName: NODE, containers: [{ name: 'c', image: 'example.invalid/none' }] },
    });
    const args = podArgs(name, namespace, created.metadata!.uid!);
    const pod = await s.topo.addPod();
    return { out: await s.call('ADD', name, pod, args), args, pod };
  }

  function assertRefused(out: CniOutcome, code: string, ...details: (string | RegExp)[]): void {
    assert.equal(out.exitCode, 1, `refused: ${out.stdout}`);
    assert.equal(out.json?.['code'], 7, out.stdout);
    assert.match(String(out.json?.['msg']), new RegExp(code));
    for (const d of details) {
      const text = String(out.json?.['details']);
      if (typeof d === 'string') assert.ok(text.includes(d), `"${d}" in: ${text}`);
      else assert.match(text, d);
    }
  }

  scenario('cni-args cannot set a MAC on a network without the mac capability', async (t) => {
    const s = await node(t, 170, () => ({
      ipamNetworks: ['plain', 'withmac'],
      bridges: ['mnt170', 'mncap0', 'mncap1'],
    }));
    const plain = {
      name: 'plain',
      type: 'bridge',
      bridge: 'mncap0',
      ipam: hostLocal(s.topo, '10.170.1.0/24'),
    };
    const withMac = { ...plain, name: 'withmac', bridge: 'mncap1', capabilities: { mac: true } };
    await cp.client.create(nad(ADMIN_NS, 'plain', plain));
    await cp.client.create(nad(ADMIN_NS, 'withmac', withMac));
    const victimMac = '0a:58:0a:aa:00:63';

    for (const [i, cniArgs] of [{ mac: victimMac }, { MAC: victimMac }].entries()) {
      const key = Object.keys(cniArgs)[0]!;
      const { out, pod } = await addPod(s, teamA, 'team-a', `cniargs${i}`, [
        { name: 'plain', namespace: ADMIN_NS, 'cni-args': cniArgs },
      ]);
      assertRefused(
        out,
        'CAPABILITY_MISSING',
        `team-a/cniargs${i}`,
        `${ADMIN_NS}/plain`,
        `cni-args.${key}`,
        '"mac"',
      );
      assert.equal(await linkIn(pod.name, 'net1'), undefined, 'no interface with the stolen MAC');
      assert.deepEqual(recordLeaks(`cni-args ${key}: refused`, leakList(await s.leftovers([pod]))), []);
    }
    // The same cni-args on a network that declares the capability: the pod gets that MAC.
    const ok = await addPod(s, teamA, 'team-a', 'cniargs-ok', [
      { name: 'withmac', namespace: ADMIN_NS, 'cni-args': { mac: victimMac } },
    ]);
    assert.equal(ok.out.exitCode, 0, ok.out.stdout);
    assert.equal((await linkIn(ok.pod.name, 'net1'))?.address, victimMac);
    assert.equal((await s.call('DEL', 'cniargs-ok', ok.pod, ok.args)).exitCode, 0);
    assert.deepEqual(recordLeaks('cni-args: after DEL', leakList(await s.leftovers([ok.pod]))), []);
  });

  scenario(
    "a config-less NAD cannot use an administrator's confDir file meant for another namespace",
    async (t) => {
      const s = await node(t, 171, (topo) => ({
        bridges: ['mnt171', 'mnst0', 'mnlab0'],
        networks: {
          'storage.conflist': {
            ...bridgeNet(topo, 'storage', '10.171.1.0/24', 'mnst0'),
            allowedNamespaces: ['team-b'],
          },
          'lab.conflist': bridgeNet(topo, 'lab', '10.171.2.0/24', 'mnlab0'),
        },
      }));
      // The administrator's NAD for team-b names the file; the tenant of team-a writes its own.
      await cp.client.create(nad('team-b', 'storage'));
      await teamA.create(nad('team-a', 'storage'));
      await teamA.create(nad('team-a', 'lab'));

      for (const name of ['storage', 'lab']) {
        const { out, pod } = await addPod(s, teamA, 'team-a', `conf-${name}`, name);
        assertRefused(
          out,
          'NETWORK_FORBIDDEN',
          `team-a/conf-${name}`,
          `team-a/${name}`,
          `${name}.conflist`,
          'allowedNamespaces',
        );
        assert.deepEqual(recordLeaks(`confDir ${name}: refused`, leakList(await s.leftovers([pod]))), []);
      }
      const ok = await addPod(s, teamB, 'team-b', 'conf-ok', 'storage');
      assert.equal(ok.out.exitCode, 0, ok.out.stdout);
      assert.ok(await linkIn(ok.pod.name, 'net1'), 'the namespace the file lists is attached');
      assert.equal((await s.call('DEL', 'conf-ok', ok.pod, ok.args)).exitCode, 0);
      assert.deepEqual(recordLeaks('confDir: after DEL', leakList(await s.leftovers([ok.pod]))), []);
    },
  );

  scenario(
    'host-device, the cluster bridge, host ports and the cluster network name are refused to a tenant',
    async (t) => {
      const s = await node(
        t,
        172,
        () => ({ bridges: ['mnt172', 'mnpm0'], ipamNetworks: ['mv', 'pm', 'podnet'] }),
        () => ({ masters: ['ens1'], hostPorts: ['18080'] }),
      );
      await s.addNodeLink('mnhd0');
      const topo = s.topo;
      const pm = {
        name: 'pm',
        plugins: [
          { type: 'bridge', bridge: 'mnpm0', ipam: hostLocal(topo, '10.172.3.0/24') },
          { type: 'portmap', capabilities: { portMappings: true }, snat: false },
        ],
      };
      await cp.client.create(nad(ADMIN_NS, 'pm', pm));
      const tenantNads: [string, Record<string, unknown>][] = [
        ['hd', { type: 'host-device', device: 'mnhd0' }],
        ['br', { type: 'bridge', bridge: 'mnt172', isGateway: true, ipam: hostLocal(topo, '10.172.0.0/24') }],
        [
          'ownports',
          {
            name: 'ownports',
            plugins: [
              { type: 'macvlan', master: 'ens1', ipam: hostLocal(topo, '10.172.4.0/24') },
              {
                type: 'portmap',
                runtimeConfig: { portMappings: [{ hostPort: 22, containerPort: 22, protocol: 'tcp' }] },
              },
            ],
          },
        ],
        [
          'samename',
          { name: 'podnet', type: 'macvlan', master: 'ens1', ipam: hostLocal(topo, '10.172.0.0/24') },
        ],
        ['dhcp', { type: 'macvlan', master: 'ens1', ipam: { type: 'dhcp' } }],
        ['mv', { type: 'macvlan', master: 'ens1', ipam: hostLocal(topo, '10.172.5.0/24') }],
      ];
      for (const [name, config] of tenantNads) await teamA.create(nad('team-a', name, config));

      const attacks: [string, unknown, (string | RegExp)[]][] = [
        ['hd', 'hd', ['team-a/hd', 'config (host-device) "device" = "mnhd0"', 'tenantPolicy.rules[0]']],
        ['br', 'br', ['team-a/br', 'config (bridge) "bridge" = "mnt172"', 'tenantPolicy.rules[0]']],
        [
          'ownports',
          'ownports',
          ['team-a/ownports', 'plugins[1] (portmap) runtimeConfig.portMappings hostPort 22'],
        ],
        [
          'ports',
          [
            {
              name: 'pm',
              namespace: ADMIN_NS,
              portMappings: [{ hostPort: 22, containerPort: 80, protocol: 'tcp' }],
            },
          ],
          [`${ADMIN_NS}/pm`, "the pod's portMappings hostPort 22", 'tenantPolicy.rules[0]'],
        ],
        ['samename', 'samename', ['team-a/samename', 'CNI network name "podnet"', 'reserved']],
        ['dhcp', 'dhcp', ['team-a/dhcp', 'config.ipam type "dhcp"', 'allowedTypes']],
      ];
      const pods = [];
      for (const [name, networks, details] of attacks) {
        const { out, pod } = await addPod(s, teamA, 'team-a', `atk-${name}`, networks);
        pods.push(pod);
        assertRefused(out, 'TENANT_POLICY_FORBIDDEN', `team-a/atk-${name}`, ...details);
      }
      assert.ok(
        (await linksIn(topo.node)).some((l) => l.ifname === 'mnhd0'),
        'the node interface stays on the node',
      );
      assert.deepEqual(recordLeaks('tenant policy: refused attacks', leakList(await s.leftovers(pods))), []);

      // team-b has no rule: the host port team-a may use is refused to it.
      const b = await addPod(s, teamB, 'team-b', 'atk-b-ports', [
        { name: 'pm', namespace: ADMIN_NS, portMappings: [{ hostPort: 18080, containerPort: 80 }] },
      ]);
      assertRefused(
        b.out,
        'TENANT_POLICY_FORBIDDEN',
        'team-b/atk-b-ports',
        "the pod's portMappings hostPort 18080",
        'no rule of tenantPolicy.rules names namespace "team-b", so no hostPorts are allowed',
      );

      // What the rule allows still works: a macvlan on the allowed master.
      const ok = await addPod(s, teamA, 'team-a', 'allowed', 'mv');
      assert.equal(ok.out.exitCode, 0, ok.out.stdout);
      assert.ok(await linkIn(ok.pod.name, 'net1'));
      assert.equal((await s.call('DEL', 'allowed', ok.pod, ok.args)).exitCode, 0);
      assert.deepEqual(
        recordLeaks('tenant policy: after DEL', leakList(await s.leftovers([...pods, b.pod, ok.pod]))),
        [],
      );
    },
  );

  scenario('thin mode: the policy in the plugin config refuses a tenant host-device', async (t) => {
    const s = await FaultScene.create(t, (topo) => ({
      primary: bridgeNet(topo, 'podnet', '10.173.0.0/24', 'mnt173'),
      bridges: ['mnt173'],
    }));
    t.after(await forwardApiForFaults(cp.server, s.topo.node, s.topo.tmpDir));
    await s.addNodeLink('mnhd1');
    await teamA.create(nad('team-a', 'hd-thin', { type: 'host-device', device: 'mnhd1' }));
    const created = await teamA.create<KubeObject>({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        namespace: 'team-a',
        name: 'thin-hd',
        annotations: { 'k8s.v1.cni.cncf.io/networks': 'hd-thin' },
      },
      spec: { nodeName: NODE, containers: [{ name: 'c', image: 'example.invalid/none' }] },
    });
    const pod = await s.topo.addPod();
    const cacheDir = join(s.topo.tmpDir, 'thin-cache');
    const call = (command: 'ADD' | 'DEL') =>
      runCni(
        {
          command,
          containerId: 'thin-hd',
          netns: pod.path,
          args: podArgs('thin-hd', 'team-a', created.metadata!.uid!),
          config: {
            cniVersion: '1.0.0',
            name: 'multinet',
            type: 'multinet',
            kubeconfig: cp.multinetKubeconfig,
            clusterNetworkConfig: bridgeNet(s.topo, 'podnet', '10.173.0.0/24', 'mnt173'),
            cacheDir,
            binDirs: ['/usr/lib/cni'],
            tenantPolicy: {
              allowedTypes: ['host-device'],
              rules: [{ namespaces: ['team-a'], devices: ['eth9'] }],
            },
          },
        },
        { nodeNs: s.topo.node, hostLocalDir: join(s.topo.tmpDir, 'host-local'), plugin: buildThinPlugin() },
      );
    const out = await call('ADD');
    assertRefused(out, 'TENANT_POLICY_FORBIDDEN', 'team-a/thin-hd', 'team-a/hd-thin', '"device" = "mnhd1"');
    assert.ok(
      (await linksIn(s.topo.node)).some((l) => l.ifname === 'mnhd1'),
      'the node interface stays',
    );
    assert.equal((await call('DEL')).exitCode, 0, 'DEL of a refused pod succeeds');
    assert.deepEqual(recordLeaks('thin policy: refused', leakList(await s.leftovers([pod]))), []);
    assert.deepEqual(await readdir(join(cacheDir, 'plans')).catch(() => []), [], 'no plan cached');
  });
});
