import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMultinetConfig } from '../config/multinet-config.ts';
import { emptyConfSource, FakeDelegateLists, MemoryPlanStore } from '../../test/support/fake-engine-deps.ts';
import { FakeClusterView } from '../../test/support/memory-cluster-view.ts';
import type { CachedAttachment, EngineDeps, PodNetworkRequest } from './engine-deps.ts';
import { ClusterUnavailableError } from '../k8s/cluster-view.ts';
import { EngineError } from './engine-error.ts';
import { runPodNetworkRequest } from './engine.ts';
import { toCniError } from './to-cni-error.ts';
import { silentLogger } from '../log/logger.ts';

const noFiles = emptyConfSource();

const conf = (name: string, caps: Record<string, boolean> = {}) => ({
  cniVersion: '1.0.0',
  name,
  type: 'bridge',
  capabilities: caps,
});

function setup(annotation?: string) {
  const cluster = new FakeClusterView();
  const annotations: Record<string, string> = annotation ? { 'k8s.v1.cni.cncf.io/networks': annotation } : {};
  cluster.addPod({ namespace: 'ns1', name: 'pod-a', uid: 'uid-1', annotations });
  cluster.addNad('kube-system', 'cluster-net', conf('cluster-net'));
  for (const n of ['net-a', 'net-b', 'net-c']) cluster.addNad('ns1', n, conf(n, { ips: true }));
  const lists = new FakeDelegateLists();
  const plans = new MemoryPlanStore();
  const routes: string[] = [];
  const deps: EngineDeps = {
    config: parseMultinetConfig({
      clusterNetwork: 'cluster-net',
      cacheDir: '/nonexistent',
      podLookupTimeoutSeconds: 0.2,
    }).engine,
    cluster,
    confs: noFiles,
    lists,
    plans,
    routes: {
      setDefaultRoute: async (_ns, ifName, gws) => void routes.push(`${ifName} via ${gws.join(',')}`),
    },
    log: silentLogger,
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    now: () => Date.now(),
  };
  return { cluster, lists, plans, deps, routes };
}

const request = (command: PodNetworkRequest['command']): PodNetworkRequest => ({
  command,
  containerId: 'c1',
  netns: '/run/netns/p1',
  ifName: 'eth0',
  cniArgs: [
    ['IgnoreUnknown', '1'],
    ['K8S_POD_NAMESPACE', 'ns1'],
    ['K8S_POD_NAME', 'pod-a'],
    ['K8S_POD_UID', 'uid-1'],
  ],
  cniPath: ['/usr/lib/cni'],
  cniVersion: '0.3.1',
  runtimeConfig: {},
});

describe('engine ADD', () => {
  it('attaches the default network first, then each selection as net1.., and writes status', async () => {
    const { deps, lists, cluster, plans } = setup('net-a, net-b@data0');
    const result = await runPodNetworkRequest(deps, request('ADD'));
    assert.deepEqual(lists.lines(), ['ADD cluster-net eth0', 'ADD net-a net1', 'ADD net-b data0']);
    assert.equal(result?.cniVersion, '0.3.1');
    assert.equal(cluster.statusWrites.length, 1);
    const status = JSON.parse(cluster.statusWrites[0]!.json) as {
      name: string;
      interface: string;
      default: boolean;
    }[];
    assert.deepEqual(
      status.map((s) => [s.name, s.interface, s.default]),
      [
        ['kube-system/cluster-net', 'eth0', true],
        ['ns1/net-a', 'net1', false],
        ['ns1/net-b', 'data0', false],
      ],
    );
    assert.ok(plans.plans.has('c1'), 'plan cached for DEL');
    assert.equal(cluster.events.filter((e) => e.reason === 'AddedInterface').length, 3);
  });

  it('undoes every earlier attachment in reverse (and the failed one) when the 3rd of 4 fails', async () => {
    const { deps, lists, plans, cluster } = setup('net-a,net-b,net-c');
    lists.failAdd.add('net-b');
    await assert.rejects(runPodNetworkRequest(deps, request('ADD')), (err: unknown) => {
      assert.ok(err instanceof EngineError);
      assert.equal(err.network, 'ns1/net-b');
      assert.match(err.message, /pod ns1\/pod-a, network ns1\/net-b: attaching net2 failed: net-b refused/);
      return true;
    });
    assert.deepEqual(lists.lines(), [
      'ADD cluster-net eth0',
      'ADD net-a net1',
      'ADD net-b net2',
      'DEL net-b net2',
      'DEL net-a net1',
      'DEL cluster-net eth0',
    ]);
    assert.equal(plans.plans.size, 0, 'nothing cached after a clean undo');
    assert.equal(cluster.statusWrites.length, 0);
    assert.ok(cluster.events.some((e) => e.type === 'Warning' && /net-b/.test(e.message)));
  });

  for (const [what, annotation, isolation, code] of [
    ['an unknown network', 'net-x', false, /NETWORK_NOT_FOUND|not found/],
    ['an invalid annotation', '[{"name":"net-a","mac":"zz"}]', false, /"mac"/],
    ['a forbidden namespace', 'other/net-a', true, /namespace/],
    ['a missing capability', '[{"name":"net-c","mac":"02:11:22:33:44:55"}]', false, /capability "mac"/],
  ] as const)
    it(`records AddNetworkFailed for ${what}, a failure before any delegate runs`, async () => {
      const { deps, lists, cluster } = setup(annotation);
      cluster.addNad('other', 'net-a', conf('net-a'));
      if (isolation) deps.config = { ...deps.config, namespaceIsolation: true, globalNamespaces: [] };
      await assert.rejects(runPodNetworkRequest(deps, request('ADD')), code);
      assert.deepEqual(lists.lines(), [], 'nothing ran');
      const warnings = cluster.events.filter((e) => e.type === 'Warning');
      assert.deepEqual(
        warnings.map((e) => [e.reason, e.pod]),
        [['AddNetworkFailed', { namespace: 'ns1', name: 'pod-a', uid: 'uid-1' }]],
      );
      assert.match(warnings[0]!.message, code);
    });

  it('records no event when the API server cannot be reached (it could not be written either)', async () => {
    const { deps, cluster } = setup('net-a');
    cluster.down = true;
    await assert.rejects(runPodNetworkRequest(deps, request('ADD')), /CLUSTER_UNAVAILABLE|cannot read/);
    assert.deepEqual(cluster.events, []);
  });

  it('undoes everything when the status write fails after the delegates', async () => {
    const { deps, lists, cluster } = setup('net-a');
    cluster.failStatusWrite = true;
    await assert.rejects(runPodNetworkRequest(deps, request('ADD')), /network-status/);
    assert.deepEqual(lists.lines().slice(2), ['DEL net-a net1', 'DEL cluster-net eth0']);
  });

  it('answers and writes status only once every result cache write has landed', async () => {
    const { deps, lists, cluster } = setup('net-a, net-b');
    lists.cacheWriteDelayMs = 20;
    await runPodNetworkRequest(deps, request('ADD'));
    assert.deepEqual(lists.cached.map((c) => c.network).sort(), ['cluster-net', 'net-a', 'net-b']);
    assert.equal(cluster.statusWrites.length, 1);
  });

  it('a result cache write that fails fails the ADD (code 5, naming the network) and undoes all', async () => {
    const { deps, lists, cluster, plans } = setup('net-a, net-b');
    lists.failCacheWrite.add('net-a');
    await assert.rejects(runPodNetworkRequest(deps, request('ADD')), (err: unknown) => {
      const cni = toCniError(err);
      assert.equal(cni.code, 5);
      assert.equal(cni.msg, 'multinet: CACHE_FAILED');
      assert.match(cni.details ?? '', /net-a.*cannot write the result cache of net1: ENOSPC/);
      return true;
    });
    assert.deepEqual(lists.lines().slice(3), ['DEL net-b net2', 'DEL net-a net1', 'DEL cluster-net eth0']);
    assert.equal(cluster.statusWrites.length, 0);
    assert.equal(await plans.get('c1'), undefined);
  });

  it('a delegate that fails while earlier cache writes are in flight: they land before undo', async () => {
    const { deps, lists } = setup('net-a, net-b');
    lists.cacheWriteDelayMs = 30;
    lists.failAdd.add('net-b');
    await assert.rejects(runPodNetworkRequest(deps, request('ADD')), /net-b/);
    // Both earlier writes landed before the first DEL of the undo, which then removes them.
    const firstDel = lists.calls.findIndex((c) => c.command === 'DEL');
    assert.ok(firstDel > 0);
    assert.deepEqual(
      lists.cached
        .filter((c) => c.afterCalls <= firstDel)
        .map((c) => c.network)
        .sort(),
      ['cluster-net', 'net-a'],
    );
  });

  it('runs no delegate when a selection asks for a capability the network lacks', async () => {
    const { deps, lists, cluster } = setup('[{"name":"net-a","mac":"02:11:22:33:44:55"}]');
    await assert.rejects(
      runPodNetworkRequest(deps, request('ADD')),
      /no plugin of this network declares the capability "mac"/,
    );
    assert.deepEqual(lists.lines(), []);
    assert.equal(cluster.statusWrites.length, 0);
  });

  it('fails clearly on a NAD that does not exist, before running anything', async () => {
    const { deps, lists } = setup('missing-net');
    await assert.rejects(
      runPodNetworkRequest(deps, request('ADD')),
      /network ns1\/missing-net: NetworkAttachmentDefinition/,
    );
    assert.deepEqual(lists.lines(), []);
  });

  it('a plan cache that cannot be written is an I/O failure (code 5), and nothing runs', async () => {
    const { deps, lists, plans } = setup('net-a');
    plans.put = () =>
      Promise.reject(new Error("EROFS: read-only file system, open '/var/lib/cni/multinet/plans/c1'"));
    await assert.rejects(runPodNetworkRequest(deps, request('ADD')), (err: unknown) => {
      const cni = toCniError(err);
      assert.equal(cni.code, 5);
      assert.match(cni.details ?? '', /cannot write the plan cache: EROFS/);
      return true;
    });
    assert.deepEqual(lists.lines(), []);
  });

  it('moves the default route to the attachment that asked for it', async () => {
    const { deps, routes } = setup('[{"name":"net-a","default-route":["10.1.0.1"]}]');
    await runPodNetworkRequest(deps, request('ADD'));
    assert.deepEqual(routes, ['net1 via 10.1.0.1']);
  });

  it('an empty default-route takes the gateways the IPAM result gives that interface', async () => {
    const { deps, lists, routes, cluster } = setup('[{"name":"net-a","default-route":[]}]');
    lists.results.set('net-a', (rt) => ({
      cniVersion: '1.0.0',
      interfaces: [
        { name: 'host-side', mac: '02:00:00:00:00:09' },
        { name: rt.ifName, mac: '02:00:00:00:00:02', sandbox: rt.netns },
      ],
      ips: [
        { address: '10.7.0.5/24', gateway: '10.7.0.254', interface: 1 },
        { address: '2001:db8:7::5/64', gateway: '2001:db8:7::1', interface: 1 },
        // Not net1's: the host side's, and one without a gateway.
        { address: '10.8.0.5/24', gateway: '10.8.0.1', interface: 0 },
        { address: '10.9.0.5/24', interface: 1 },
      ],
    }));
    await runPodNetworkRequest(deps, request('ADD'));
    assert.deepEqual(routes, ['net1 via 10.7.0.254,2001:db8:7::1']);
    const status = JSON.parse(cluster.statusWrites[0]!.json) as {
      interface?: string;
      'default-route'?: string[];
    }[];
    assert.deepEqual(
      status.map((e) => [e.interface, e['default-route']]),
      [
        ['eth0', undefined],
        ['net1', ['10.7.0.254', '2001:db8:7::1']],
      ],
      'network-status names the gateways taken from the result',
    );
  });

  it('an empty default-route with no gateway in the result fails with ROUTE_FAILED (7) and undoes all', async () => {
    const { deps, lists, routes, plans } = setup('[{"name":"net-a","default-route":[]}]');
    lists.results.set('net-a', (rt) => ({
      cniVersion: '1.0.0',
      interfaces: [{ name: rt.ifName, sandbox: rt.netns }],
      ips: [{ address: '10.7.0.5/24', interface: 0 }],
    }));
    await assert.rejects(runPodNetworkRequest(deps, request('ADD')), (err: unknown) => {
      const cni = toCniError(err);
      assert.equal(cni.code, 7);
      assert.match(cni.msg, /ROUTE_FAILED/);
      assert.match(cni.details ?? '', /neither the annotation nor the IPAM result gives a gateway for net1/);
      return true;
    });
    assert.deepEqual(routes, []);
    assert.deepEqual(
      lists.lines().filter((l) => l.startsWith('DEL')),
      ['DEL net-a net1', 'DEL cluster-net eth0'],
    );
    assert.equal(plans.plans.size, 0);
  });
});

describe('engine DEL', () => {
  it('deletes from the cached plan in reverse even when the API server is gone', async () => {
    const { deps, lists, cluster, plans } = setup('net-a,net-b');
    await runPodNetworkRequest(deps, request('ADD'));
    lists.calls.length = 0;
    cluster.down = true;
    await runPodNetworkRequest(deps, request('DEL'));
    assert.deepEqual(lists.lines(), ['DEL net-b net2', 'DEL net-a net1', 'DEL cluster-net eth0']);
    assert.equal(plans.plans.size, 0);
  });

  it('continues past a failing delegate, keeps the plan and reports the failure', async () => {
    const { deps, lists, plans } = setup('net-a,net-b');
    await runPodNetworkRequest(deps, request('ADD'));
    lists.calls.length = 0;
    lists.failDel.add('net-b');
    await assert.rejects(runPodNetworkRequest(deps, request('DEL')), /DEL incomplete.*ns1\/net-b/);
    assert.deepEqual(lists.lines(), ['DEL net-b net2', 'DEL net-a net1', 'DEL cluster-net eth0']);
    assert.ok(plans.plans.has('c1'));
    lists.failDel.clear();
    await runPodNetworkRequest(deps, request('DEL'));
    assert.equal(plans.plans.size, 0);
  });

  it('without a plan, rebuilds from the API (pod still there)', async () => {
    const { deps, lists } = setup('net-a');
    await runPodNetworkRequest(deps, request('DEL'));
    assert.deepEqual(lists.lines(), ['DEL net-a net1', 'DEL cluster-net eth0']);
  });

  it('with an unreadable plan and no API, releases what the result cache remembers, with its config', async () => {
    const { deps, lists, plans, cluster } = setup('net-a,net-b');
    await runPodNetworkRequest(deps, request('ADD'));
    lists.calls.length = 0;
    cluster.down = true;
    plans.get = () => Promise.reject(new Error('plan cache record: checksum mismatch (corrupt)'));
    const remembered: CachedAttachment[] = [
      {
        network: 'cluster-net',
        ifName: 'eth0',
        configText: JSON.stringify(conf('cluster-net')),
        capabilityArgs: {},
      },
      {
        network: 'net-b',
        ifName: 'net2',
        configText: JSON.stringify(conf('net-b-at-add')),
        capabilityArgs: {},
      },
      { network: 'net-a', ifName: 'net1', configText: JSON.stringify(conf('net-a')), capabilityArgs: {} },
    ];
    Object.assign(lists, { cachedAttachments: async (id: string) => (id === 'c1' ? remembered : []) });
    await runPodNetworkRequest(deps, request('DEL'));
    assert.deepEqual(lists.lines(), ['DEL net-a net1', 'DEL net-b-at-add net2', 'DEL cluster-net eth0']);
    // The default network cannot be resolved (API down): remembered, it is still released, last.
    remembered.push(remembered.shift()!);
    lists.calls.length = 0;
    await runPodNetworkRequest(deps, request('DEL'));
    assert.equal(lists.lines().at(-1), 'DEL cluster-net eth0');
    assert.equal(plans.plans.size, 0, 'the unreadable plan is gone once everything is released');
  });

  it('without a plan or an API, still releases the configured defaultNetworks', async () => {
    const { deps, lists } = setup();
    const extra = { path: '/etc/cni/multinet/net.d/extra.conf', content: JSON.stringify(conf('extra')) };
    await runPodNetworkRequest(
      {
        ...deps,
        cluster: undefined,
        config: { ...deps.config, clusterNetworkConfig: conf('primary'), defaultNetworks: ['extra'] },
        confs: { ...deps.confs, listConfFiles: async () => [extra] },
      },
      request('DEL'),
    );
    assert.deepEqual(lists.lines(), ['DEL extra net1', 'DEL primary eth0']);
  });

  it('CHECK of a container with no ADD record answers code 3 (container unknown)', async () => {
    const { deps, lists } = setup('net-a');
    await assert.rejects(runPodNetworkRequest(deps, request('CHECK')), (err: unknown) => {
      assert.equal(toCniError(err).code, 3);
      assert.match(toCniError(err).details ?? '', /no record of an ADD for this container/);
      return true;
    });
    assert.deepEqual(lists.lines(), []);
  });

  it("CHECK answers with the failing delegate's own code, or 999 for one that would mislead", async () => {
    for (const [code, expected] of [
      [100, 100],
      [3, 3],
      [42, 999],
    ] as const) {
      const { deps, lists } = setup('net-a');
      const check = { ...request('CHECK'), cniVersion: '1.0.0' };
      await runPodNetworkRequest(deps, { ...request('ADD'), cniVersion: '1.0.0' });
      lists.failCheck.set('net1', 'interface net1 not found');
      lists.failCheckCode = code;
      await assert.rejects(runPodNetworkRequest(deps, check), (err: unknown) => {
        const cni = toCniError(err);
        assert.equal(cni.code, expected, `plugin code ${code}`);
        assert.match(cni.msg, /CHECK_FAILED/);
        assert.match(cni.details ?? '', /net1: interface net1 not found/);
        return true;
      });
    }
  });

  it('is idempotent: a second DEL succeeds', async () => {
    const { deps, lists, plans } = setup('net-a');
    await runPodNetworkRequest(deps, request('ADD'));
    lists.calls.length = 0;
    await runPodNetworkRequest(deps, request('DEL'));
    assert.deepEqual(
      lists.lines(),
      ['DEL net-a net1', 'DEL cluster-net eth0'],
      'the first DEL runs the plan',
    );
    assert.equal(plans.plans.size, 0);
    lists.calls.length = 0;
    await runPodNetworkRequest(deps, { ...request('DEL'), netns: '' });
    // No plan any more: the second DEL rebuilds it from the API (the pod is still there) and
    // DELs every delegate again, as CNI requires of a repeated DEL (SPEC §2 "DEL").
    assert.deepEqual(
      lists.lines(),
      ['DEL net-a net1', 'DEL cluster-net eth0'],
      'the second DEL still runs them',
    );
    assert.equal(plans.plans.size, 0);
  });
});

describe('engine ADD after an unfinished ADD', () => {
  it('undoes the stale attempt first so exactly one set of attachments remains', async () => {
    const { deps, lists } = setup('net-a');
    await runPodNetworkRequest(deps, request('ADD'));
    lists.calls.length = 0;
    await runPodNetworkRequest(deps, request('ADD'));
    assert.deepEqual(lists.lines(), [
      'DEL net-a net1',
      'DEL cluster-net eth0',
      'ADD cluster-net eth0',
      'ADD net-a net1',
    ]);
  });
});

describe('engine errors that tell the truth', () => {
  it("a delegate's own CNI code reaches the runtime (not 999)", async () => {
    for (const code of [7, 11, 105]) {
      const { deps, lists } = setup('net-a');
      lists.failAdd.add('net-a');
      lists.failAddCode = code;
      await assert.rejects(runPodNetworkRequest(deps, request('ADD')), (err: unknown) => {
        assert.equal(toCniError(err).code, code);
        assert.match(toCniError(err).msg, /DELEGATE_FAILED/);
        return true;
      });
    }
  });

  it('a delegate code that would mislead the runtime becomes 999, and the details keep it', async () => {
    // 0 and 42 (reserved by the spec, undefined), a fraction, a string, and one no Go uint32 holds.
    for (const code of [0, 42, 1.5, '7', 2 ** 40]) {
      const { deps, lists } = setup('net-a');
      lists.failAdd.add('net-a');
      lists.failAddCode = code;
      await assert.rejects(runPodNetworkRequest(deps, request('ADD')), (err: unknown) => {
        const cni = toCniError(err);
        assert.equal(cni.code, 999, `code ${String(code)}`);
        assert.match(cni.msg, /DELEGATE_FAILED/);
        assert.match(cni.details ?? '', /net-a refused/);
        if (typeof code === 'number') assert.match(cni.details ?? '', new RegExp(`plugin code ${code}\\)`));
        return true;
      });
    }
  });

  it('an API error while resolving the clusterNetwork NAD is CLUSTER_UNAVAILABLE (11), not NOT_FOUND', async () => {
    const { deps, lists, cluster } = setup();
    cluster.getNetworkObject = () =>
      Promise.reject(new ClusterUnavailableError('GET NAD: HTTP 503: etcd down'));
    await assert.rejects(runPodNetworkRequest(deps, request('ADD')), (err: unknown) => {
      assert.equal(toCniError(err).code, 11);
      assert.match(toCniError(err).msg, /CLUSTER_UNAVAILABLE/);
      assert.match(toCniError(err).details ?? '', /etcd down/);
      return true;
    });
    const withDefaults = { ...deps, config: { ...deps.config, defaultNetworks: ['net-a'] } };
    cluster.getNetworkObject = (ns, name) =>
      name === 'net-a'
        ? Promise.reject(new ClusterUnavailableError('GET NAD: HTTP 429: too many requests'))
        : Promise.resolve(cluster.nads.get(`${ns}/${name}`));
    await assert.rejects(runPodNetworkRequest(withDefaults, request('ADD')), (err: unknown) => {
      assert.equal(toCniError(err).code, 11, 'a defaultNetworks entry too');
      return true;
    });
    assert.deepEqual(
      lists.lines().filter((l) => l.startsWith('ADD')),
      [],
      'nothing ran',
    );
  });

  it('annotation cni-args reach the delegate config as args.cni, over the NAD own args', async () => {
    const { deps, lists, cluster } = setup(
      JSON.stringify([{ name: 'net-a', 'cni-args': { color: 'blue', size: 3 } }]),
    );
    cluster.addNad('ns1', 'net-a', { ...conf('net-a'), args: { cni: { color: 'red', keep: true } } });
    await runPodNetworkRequest(deps, request('ADD'));
    const add = lists.calls.find((c) => c.command === 'ADD' && c.network === 'net-a')!;
    const plugin = (add.config['plugins'] as Record<string, unknown>[] | undefined)?.[0] ?? add.config;
    assert.deepEqual(plugin['args'], { cni: { color: 'blue', keep: true, size: 3 } });
    const primary = lists.calls.find((c) => c.command === 'ADD' && c.network === 'cluster-net')!;
    const primaryPlugin =
      (primary.config['plugins'] as Record<string, unknown>[] | undefined)?.[0] ?? primary.config;
    assert.equal(primaryPlugin['args'], undefined, 'the default network gets no cni-args');
    assert.deepEqual(
      add.args.find(([k]) => k === 'K8S_POD_NAME'),
      ['K8S_POD_NAME', 'pod-a'],
    );
  });
});

describe('engine network selection rules', () => {
  it('explicit interface names still consume an index (net<i> numbering as users expect)', async () => {
    const { deps, lists } = setup('[{"name":"net-a","interface":"macvlan1"},{"name":"net-b"}]');
    await runPodNetworkRequest(deps, request('ADD'));
    assert.deepEqual(lists.lines(), ['ADD cluster-net eth0', 'ADD net-a macvlan1', 'ADD net-b net2']);
  });

  it('a requested name colliding with a generated one fails before anything runs', async () => {
    const { deps, lists } = setup('[{"name":"net-a","interface":"net2"},{"name":"net-b"}]');
    await assert.rejects(runPodNetworkRequest(deps, request('ADD')), /interface name "net2" is already used/);
    assert.deepEqual(lists.lines(), []);
  });

  it('namespaceIsolation refuses a NAD of another namespace, naming both', async () => {
    const { deps, lists, cluster } = setup('other/net-x');
    cluster.addNad('other', 'net-x', conf('net-x'));
    deps.config.namespaceIsolation = true;
    await assert.rejects(
      runPodNetworkRequest(deps, request('ADD')),
      /network other\/net-x: namespaceIsolation is on: pods in namespace "ns1"/,
    );
    assert.deepEqual(lists.lines(), []);
    deps.config.globalNamespaces = ['other'];
    await runPodNetworkRequest(deps, request('ADD'));
    assert.deepEqual(lists.lines(), ['ADD cluster-net eth0', 'ADD net-x net1']);
  });

  it('namespaceIsolation also holds for the default-network annotation (multinetNamespace stays allowed)', async () => {
    const { deps, lists, cluster } = setup();
    cluster.addNad('other', 'tenant-net', conf('tenant-net'));
    cluster.addNad('kube-system', 'alt-net', conf('alt-net'));
    const annotate = (value: string) =>
      cluster.addPod({
        namespace: 'ns1',
        name: 'pod-a',
        uid: 'uid-1',
        annotations: { 'v1.multus-cni.io/default-network': value },
      });
    deps.config.namespaceIsolation = true;
    annotate('other/tenant-net');
    await assert.rejects(
      runPodNetworkRequest(deps, request('ADD')),
      /network other\/tenant-net: namespaceIsolation is on: pods in namespace "ns1"/,
    );
    assert.deepEqual(lists.lines(), []);
    annotate('alt-net');
    await runPodNetworkRequest(deps, request('ADD'));
    assert.deepEqual(lists.lines(), ['ADD alt-net eth0']);
  });

  it('the per-pod default-network annotation replaces the cluster network', async () => {
    const { deps, lists, cluster } = setup();
    cluster.addNad('kube-system', 'alt-net', conf('alt-net'));
    cluster.addPod({
      namespace: 'ns1',
      name: 'pod-a',
      uid: 'uid-1',
      annotations: { 'v1.multus-cni.io/default-network': 'alt-net' },
    });
    await runPodNetworkRequest(deps, request('ADD'));
    assert.deepEqual(lists.lines(), ['ADD alt-net eth0']);
    const status = JSON.parse(cluster.statusWrites[0]!.json) as { name: string; default: boolean }[];
    assert.deepEqual(
      status.map((s) => [s.name, s.default]),
      [['kube-system/alt-net', true]],
    );
  });

  it('defaultNetworks go to every pod except those in systemNamespaces', async () => {
    const { deps, lists, cluster } = setup('net-a');
    cluster.addNad('kube-system', 'always', conf('always'));
    deps.config.defaultNetworks = ['always'];
    await runPodNetworkRequest(deps, request('ADD'));
    assert.deepEqual(lists.lines(), ['ADD cluster-net eth0', 'ADD always net1', 'ADD net-a net2']);
    deps.config.systemNamespaces = ['ns1'];
    lists.calls.length = 0;
    await runPodNetworkRequest(deps, { ...request('ADD'), containerId: 'c2' });
    assert.deepEqual(lists.lines(), ['ADD cluster-net eth0', 'ADD net-a net1']);
  });

  it('a missing readiness indicator answers "try again later" without running anything', async () => {
    const { deps, lists } = setup('net-a');
    deps.config.readinessIndicatorFile = '/nonexistent/ready';
    await assert.rejects(runPodNetworkRequest(deps, request('ADD')), (err: unknown) => {
      assert.ok(err instanceof EngineError);
      assert.equal(err.cniCode, 11);
      return true;
    });
    assert.deepEqual(lists.lines(), []);
  });

  it('a pod re-created under the same name (UID differs) is refused', async () => {
    const { deps, lists, cluster } = setup('net-a');
    cluster.addPod({ namespace: 'ns1', name: 'pod-a', uid: 'uid-2', annotations: {} });
    await assert.rejects(runPodNetworkRequest(deps, request('ADD')), /re-created/);
    assert.deepEqual(lists.lines(), []);
  });
});

describe('engine with podSource "runtime" (containerd without an API server)', () => {
  it('takes the networks annotation from the runtime capability arg, not from a pod read', async () => {
    const { deps, lists, cluster } = setup();
    cluster.pods.clear();
    deps.config.podSource = 'runtime';
    const req = {
      ...request('ADD'),
      runtimeConfig: { 'io.kubernetes.cri.pod-annotations': { 'k8s.v1.cni.cncf.io/networks': 'net-b' } },
    };
    await runPodNetworkRequest(deps, req);
    assert.deepEqual(lists.lines(), ['ADD cluster-net eth0', 'ADD net-b net1']);
  });
});

describe('engine STATUS and GC', () => {
  it('STATUS asks every always-attached delegate (default network and defaultNetworks)', async () => {
    const { deps, lists, cluster } = setup();
    cluster.addNad('kube-system', 'always', conf('always'));
    deps.config.defaultNetworks = ['always'];
    await runPodNetworkRequest(deps, request('STATUS'));
    assert.deepEqual(lists.lines(), ['STATUS cluster-net', 'STATUS always']);
  });

  it('GC deletes pods the runtime no longer lists, then forwards GC to every delegate network', async () => {
    const { deps, lists, plans } = setup('net-a');
    await runPodNetworkRequest(deps, request('ADD'));
    await runPodNetworkRequest(deps, { ...request('ADD'), containerId: 'c2' });
    lists.calls.length = 0;
    await runPodNetworkRequest(deps, {
      ...request('GC'),
      validAttachments: [{ containerId: 'c2', ifName: 'eth0' }],
    });
    assert.deepEqual(lists.lines().slice(0, 2), ['DEL net-a net1', 'DEL cluster-net eth0']);
    assert.deepEqual(lists.lines().slice(2).sort(), ['GC cluster-net', 'GC net-a']);
    assert.deepEqual([...plans.plans.keys()], ['c2']);
    assert.deepEqual(lists.gcValid.get('net-a'), ['c2/net1']);
    assert.deepEqual(lists.gcValid.get('cluster-net'), ['c2/eth0']);
  });

  it('GC keeps what the result cache remembers of a listed container whose plan is lost', async () => {
    const { deps, lists, plans } = setup('net-a');
    await runPodNetworkRequest(deps, request('ADD'));
    await runPodNetworkRequest(deps, { ...request('ADD'), containerId: 'c2' });
    const lostPlan = (await plans.get('c2'))!;
    plans.plans.delete('c2');
    Object.assign(lists, {
      cachedAttachments: async (id: string) =>
        id === 'c2'
          ? lostPlan.attachments.map((a) => ({
              network: JSON.parse(a.configText).name as string,
              ifName: a.ifName,
              configText: a.configText,
              capabilityArgs: {},
            }))
          : [],
    });
    lists.calls.length = 0;
    await runPodNetworkRequest(deps, {
      ...request('GC'),
      validAttachments: [
        { containerId: 'c1', ifName: 'eth0' },
        { containerId: 'c2', ifName: 'eth0' },
      ],
    });
    assert.deepEqual(lists.gcValid.get('net-a'), ['c1/net1', 'c2/net1']);
    assert.deepEqual(lists.gcValid.get('cluster-net'), ['c1/eth0', 'c2/eth0']);
    assert.equal(lists.lines().filter((l) => l.startsWith('DEL')).length, 0);
  });
});
