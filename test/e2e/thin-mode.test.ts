// The meta-plugin end to end in thin mode: a real kube-apiserver + etcd, the real reference
// plugins, real namespaces. multinet is exec'd as containerd would exec it.
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { after, before, describe, test } from 'node:test';
import { readFileSync } from 'node:fs';
import { runCli } from '../../src/cli/run-cli.ts';
import { parseKubeconfig } from '../../src/k8s/kubeconfig.ts';
import { KubeRestClient } from '../../src/k8s/kube-rest-client.ts';
import { KubernetesClusterView } from '../../src/k8s/kubernetes-cluster-view.ts';
import { parseManifestDocuments } from '../../src/local/manifest-documents.ts';
import { parseNetworkStatus } from '../../src/spec/network-status.ts';
import { forwardApiIntoNetns } from '../support/api-forwarder.ts';
import { runCni, type CniCall } from '../support/cni-runtime.ts';
import { REPO_ROOT, startControlPlane, type ControlPlane } from '../support/control-plane.ts';
import type { KubeObject } from '../support/kube-client.ts';
import {
  addressesOf,
  allocations,
  ip,
  linkIn,
  linksIn,
  NetnsTopology,
  type PodNs,
} from '../support/netns.ts';

const STATUS = 'k8s.v1.cni.cncf.io/network-status';
let seq = 0;

async function fixture(path: string): Promise<KubeObject> {
  const text = await readFile(join(REPO_ROOT, 'test/fixtures/manifests', path), 'utf8');
  return parseManifestDocuments(text, path)[0] as KubeObject;
}

const nad = (namespace: string, name: string, config: object): KubeObject => ({
  apiVersion: 'k8s.cni.cncf.io/v1',
  kind: 'NetworkAttachmentDefinition',
  metadata: { namespace, name },
  spec: { config: JSON.stringify(config) },
});

const pod = (namespace: string, name: string, annotations: Record<string, string>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { namespace, name, annotations },
  spec: { containers: [{ name: 'c', image: 'example.invalid/none' }] },
});

/** A node namespace with the runtime's view: a default network (bridge), multinet's config, and `eth0`/`ens1` as macvlan masters. */
class Scene {
  readonly hostLocal: string;
  readonly cacheDir: string;
  config: Record<string, unknown> = {};

  private constructor(
    readonly topo: NetnsTopology,
    readonly cp: ControlPlane,
  ) {
    this.hostLocal = join(topo.tmpDir, 'host-local');
    this.cacheDir = join(topo.tmpDir, 'multinet-cache');
  }

  static async create(t: TestContext, cp: ControlPlane, kubeconfig = cp.multinetKubeconfig): Promise<Scene> {
    const s = new Scene(await NetnsTopology.create(t), cp);
    // The node reaches the API server as a real node would; the plugin runs inside the node namespace.
    const stopForwarder = await forwardApiIntoNetns(cp.server, s.topo.node, s.topo.tmpDir);
    t.after(stopForwarder);
    // The 2018 manifests name the master "eth0": here that is a veth inside the test node namespace.
    await ip('-n', s.topo.node, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0p');
    await ip('-n', s.topo.node, 'link', 'set', 'eth0', 'up');
    await ip('-n', s.topo.node, 'link', 'set', 'eth0p', 'up');
    const defaultConf = join(s.topo.tmpDir, '10-podnet.conf');
    await writeFile(
      defaultConf,
      JSON.stringify({
        cniVersion: '0.4.0',
        name: 'podnet',
        type: 'bridge',
        bridge: 'mnbr0',
        isGateway: true,
        ipam: { type: 'host-local', ranges: [[{ subnet: '10.88.0.0/24' }]] },
      }),
    );
    s.config = {
      cniVersion: '0.4.0',
      name: 'multinet',
      type: 'multinet',
      kubeconfig,
      clusterNetwork: defaultConf,
      cacheDir: s.cacheDir,
      binDirs: ['/usr/lib/cni'],
      podLookupTimeoutSeconds: 3,
    };
    return s;
  }

  async createPod(obj: KubeObject): Promise<{ namespace: string; name: string; uid: string }> {
    const created = await this.cp.client.create(obj);
    const m = created.metadata!;
    return { namespace: m.namespace!, name: m.name!, uid: m.uid! };
  }

  cni(
    command: CniCall['command'],
    p: { namespace: string; name: string; uid: string },
    netns: PodNs | '',
    containerId: string,
  ) {
    return runCni(
      {
        command,
        containerId,
        netns: netns === '' ? '' : netns.path,
        ifName: 'eth0',
        args: {
          IgnoreUnknown: '1',
          K8S_POD_NAMESPACE: p.namespace,
          K8S_POD_NAME: p.name,
          K8S_POD_INFRA_CONTAINER_ID: containerId,
          K8S_POD_UID: p.uid,
        },
        config: this.config,
      },
      { nodeNs: this.topo.node, hostLocalDir: this.hostLocal },
    );
  }

  async status(p: { namespace: string; name: string }) {
    const obj = await this.cp.client.get({
      apiVersion: 'v1',
      kind: 'Pod',
      namespace: p.namespace,
      name: p.name,
    });
    const text = obj.metadata?.annotations?.[STATUS];
    return text ? parseNetworkStatus(text) : undefined;
  }

  /** Everything multinet or a delegate could leave behind, for "nothing left" assertions. */
  async leftovers(podNs: PodNs, networks: string[]) {
    const links = (await linksIn(podNs.name)).map((l) => l.ifname).filter((n) => n !== 'lo');
    const ips: string[] = [];
    for (const n of networks) ips.push(...(await allocations(this.hostLocal, n)).map((a) => `${n}:${a}`));
    const cache: string[] = [];
    for (const sub of ['plans', 'results'])
      cache.push(
        ...(await readdir(join(this.cacheDir, sub)).catch(() => [] as string[])).map((f) => `${sub}/${f}`),
      );
    return { links, ips, cache };
  }
}

const nothing = { links: [], ips: [], cache: [] };

describe('thin mode against a real kube-apiserver', () => {
  let cp: ControlPlane;
  before(async () => {
    cp = await startControlPlane();
  });
  after(async () => {
    await cp?.stop();
  });

  for (const variant of ['poc-2018', 'v1'] as const) {
    test(`the 2018 scenario, verbatim (${variant} manifests)`, async (t) => {
      const s = await Scene.create(t, cp);
      const namespace = variant === 'poc-2018' ? 'default' : 'scenario-v1';
      if (namespace !== 'default')
        await cp.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
      const net = await fixture(`${variant}/macvlan-conf.yaml`);
      await cp.client.create({ ...net, metadata: { ...net.metadata, namespace } });
      const bothpod = await fixture(`${variant}/bothpod.yaml`);
      const p = await s.createPod({ ...bothpod, metadata: { ...bothpod.metadata, namespace } });
      const podNs = await s.topo.addPod();

      const add = await s.cni('ADD', p, podNs, `ctr-${variant}`);
      assert.equal(add.exitCode, 0, add.stdout + add.stderr);
      assert.equal(add.json?.['cniVersion'], '0.4.0');
      const eth0 = await addressesOf(podNs.name, 'eth0');
      assert.match(eth0[0] ?? '', /^10\.88\.0\.\d+\/24$/);
      const net1 = await linkIn(podNs.name, 'net1');
      assert.equal(net1?.linkinfo?.info_kind, 'macvlan');
      const [addr] = await addressesOf(podNs.name, 'net1');
      const last = Number(addr?.split('/')[0]?.split('.')[3]);
      assert.match(addr ?? '', /^192\.168\.1\.\d+\/24$/);
      assert.ok(last >= 200 && last <= 216, `net1 address ${addr} outside .200-.216`);

      const status = await s.status(p);
      assert.deepEqual(
        status?.map((e) => [e.name, e.interface, e.default]),
        [
          ['podnet', 'eth0', true],
          [`${namespace}/macvlan-conf`, 'net1', false],
        ],
      );
      assert.deepEqual(status?.[1]?.ips, [addr!.split('/')[0]]);

      const del = await s.cni('DEL', p, podNs, `ctr-${variant}`);
      assert.equal(del.exitCode, 0, del.stdout + del.stderr);
      assert.deepEqual(await s.leftovers(podNs, ['podnet', 'macvlan-conf']), nothing);
    });
  }

  const threeNets = async (s: Scene, namespace: string) => {
    await cp.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    await cp.client.create(
      nad(namespace, 'mv', {
        cniVersion: '1.0.0',
        type: 'macvlan',
        master: 'ens1',
        mode: 'bridge',
        ipam: { type: 'host-local', ranges: [[{ subnet: '10.10.1.0/24' }]] },
      }),
    );
    await cp.client.create(
      nad(namespace, 'br', {
        cniVersion: '0.3.1',
        name: 'br',
        plugins: [
          {
            type: 'bridge',
            bridge: 'mnbr1',
            ipam: { type: 'host-local', ranges: [[{ subnet: '10.10.2.0/24' }]] },
          },
          { type: 'tuning', sysctl: { 'net.ipv4.conf.IFNAME.arp_notify': '1' } },
        ],
      }),
    );
    await cp.client.create(
      nad(namespace, 'pt', {
        cniVersion: '0.4.0',
        type: 'ptp',
        ipam: { type: 'host-local', ranges: [[{ subnet: '10.10.3.0/24' }]] },
      }),
    );
  };

  for (const form of ['text', 'json'] as const) {
    test(`a pod with three networks (${form} annotation form)`, async (t) => {
      const s = await Scene.create(t, cp);
      const namespace = `three-${form}`;
      await threeNets(s, namespace);
      const annotation =
        form === 'text'
          ? ' mv , br@data0,pt '
          : JSON.stringify([{ name: 'mv' }, { name: 'br', interface: 'data0' }, { name: 'pt', namespace }]);
      const p = await s.createPod(pod(namespace, 'three', { 'k8s.v1.cni.cncf.io/networks': annotation }));
      const podNs = await s.topo.addPod();
      const add = await s.cni('ADD', p, podNs, `ctr-three-${form}`);
      assert.equal(add.exitCode, 0, add.stdout + add.stderr);
      const kinds = Object.fromEntries(
        (await linksIn(podNs.name)).map((l) => [l.ifname, l.linkinfo?.info_kind]),
      );
      assert.equal(kinds['net1'], 'macvlan');
      assert.equal(kinds['data0'], 'veth');
      assert.equal(kinds['net3'], 'veth');
      assert.match((await addressesOf(podNs.name, 'net3'))[0] ?? '', /^10\.10\.3\./);
      const status = await s.status(p);
      assert.deepEqual(
        status?.map((e) => e.name),
        ['podnet', `${namespace}/mv`, `${namespace}/br`, `${namespace}/pt`],
      );
      const check = await s.cni('CHECK', p, podNs, `ctr-three-${form}`);
      assert.equal(check.exitCode, 0, check.stdout + check.stderr);
      const del = await s.cni('DEL', p, podNs, `ctr-three-${form}`);
      assert.equal(del.exitCode, 0, del.stdout + del.stderr);
      assert.deepEqual(await s.leftovers(podNs, ['podnet', 'mv', 'br', 'pt']), nothing);
      // The runtime's second DEL (RemovePodSandbox) comes with an empty CNI_NETNS.
      const again = await s.cni('DEL', p, '', `ctr-three-${form}`);
      assert.equal(again.exitCode, 0, again.stdout + again.stderr);
    });
  }

  test('multinet status reads attachments and missing networks from the real API', async (t) => {
    const s = await Scene.create(t, cp);
    const namespace = 'status-cli';
    await threeNets(s, namespace);
    const p = await s.createPod(pod(namespace, 'attached', { 'k8s.v1.cni.cncf.io/networks': 'mv,br' }));
    await s.createPod(pod(namespace, 'pending', { 'k8s.v1.cni.cncf.io/networks': 'pt' }));
    const podNs = await s.topo.addPod();
    assert.equal((await s.cni('ADD', p, podNs, 'ctr-status-cli')).exitCode, 0);
    let stdout = '';
    const io = { stdout: (x: string) => (stdout += x), stderr: () => {}, env: {}, isTty: false };
    assert.equal(await runCli(['status', '--kubeconfig', cp.adminKubeconfig, '-o', 'json'], io), 0);
    const pods = (
      JSON.parse(stdout) as {
        pods: { pod: string; attachments: { interface: string; network: string }[]; missing: string[] }[];
      }
    ).pods;
    const attached = pods.find((x) => x.pod === `${namespace}/attached`);
    assert.deepEqual(
      attached?.attachments.map((a) => [a.interface, a.network]),
      [
        ['eth0', 'podnet'],
        ['net1', `${namespace}/mv`],
        ['net2', `${namespace}/br`],
      ],
    );
    assert.deepEqual(attached?.missing, []);
    assert.deepEqual(pods.find((x) => x.pod === `${namespace}/pending`)?.missing, [`${namespace}/pt`]);
    assert.equal((await s.cni('DEL', p, podNs, 'ctr-status-cli')).exitCode, 0);
  });

  test('the status write carries the UID: a re-created pod of the same name is never annotated', async () => {
    await cp.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'recreated' } });
    const first = await cp.client.create(pod('recreated', 'same-name', {}));
    await cp.client.delete(
      { apiVersion: 'v1', kind: 'Pod', namespace: 'recreated', name: 'same-name' },
      { gracePeriodSeconds: '0' },
    );
    await cp.client.create(pod('recreated', 'same-name', {}));
    const client = new KubeRestClient(
      parseKubeconfig(await readFile(cp.multinetKubeconfig, 'utf8'), cp.multinetKubeconfig, (f) =>
        readFileSync(f),
      ),
    );
    try {
      const view = new KubernetesClusterView(client);
      const ref = { namespace: 'recreated', name: 'same-name', uid: first.metadata!.uid! };
      await assert.rejects(view.writeNetworkStatus(ref, '[]'), /re-created/);
      const now = await cp.client.get({
        apiVersion: 'v1',
        kind: 'Pod',
        namespace: 'recreated',
        name: 'same-name',
      });
      assert.equal(now.metadata?.annotations?.[STATUS], undefined);
    } finally {
      client.close();
    }
  });

  test('a failing third network undoes the first two and the default network, and says why', async (t) => {
    const s = await Scene.create(t, cp);
    const namespace = 'fail-third';
    await threeNets(s, namespace);
    await cp.client.create(
      nad(namespace, 'broken', {
        cniVersion: '1.0.0',
        type: 'macvlan',
        master: 'nosuchdev0',
        ipam: { type: 'host-local', ranges: [[{ subnet: '10.10.9.0/24' }]] },
      }),
    );
    const p = await s.createPod(
      pod(namespace, 'unlucky', { 'k8s.v1.cni.cncf.io/networks': 'mv,br,broken,pt' }),
    );
    const podNs = await s.topo.addPod();
    const add = await s.cni('ADD', p, podNs, 'ctr-fail');
    assert.notEqual(add.exitCode, 0);
    const details = String(add.json?.['details']);
    assert.match(details, /pod fail-third\/unlucky, network fail-third\/broken: attaching net3 failed/);
    assert.match(details, /Link not found/);
    assert.deepEqual(await s.leftovers(podNs, ['podnet', 'mv', 'br', 'broken']), nothing);
    assert.equal(await s.status(p), undefined, 'no network-status for a pod whose ADD failed');
    const events = await cp.client.list({ apiVersion: 'v1', kind: 'Event', namespace });
    assert.ok(
      events.items.some(
        (e) =>
          (e as { type?: string }).type === 'Warning' &&
          /broken/.test(String((e as { message?: string }).message)),
      ),
      'a Warning event names the failed network',
    );
    // The runtime always DELs after a failed ADD: that must succeed too.
    const del = await s.cni('DEL', p, podNs, 'ctr-fail');
    assert.equal(del.exitCode, 0, del.stdout + del.stderr);
  });

  test('a default-route move that fails (gateway not on the link) undoes every attachment', async (t) => {
    const s = await Scene.create(t, cp);
    const namespace = 'fail-route';
    await threeNets(s, namespace);
    const p = await s.createPod(
      pod(namespace, 'routed', {
        'k8s.v1.cni.cncf.io/networks': JSON.stringify([{ name: 'mv', 'default-route': ['203.0.113.77'] }]),
      }),
    );
    const podNs = await s.topo.addPod();
    const add = await s.cni('ADD', p, podNs, 'ctr-route');
    assert.notEqual(add.exitCode, 0);
    assert.match(String(add.json?.['details']), /cannot move the default route to net1 via 203\.0\.113\.77/);
    assert.deepEqual(await s.leftovers(podNs, ['podnet', 'mv']), nothing);
  });

  test('default-route moves the pod default route to the chosen attachment', async (t) => {
    const s = await Scene.create(t, cp);
    const namespace = 'ok-route';
    await threeNets(s, namespace);
    const p = await s.createPod(
      pod(namespace, 'routed', {
        'k8s.v1.cni.cncf.io/networks': JSON.stringify([{ name: 'mv', 'default-route': ['10.10.1.1'] }]),
      }),
    );
    const podNs = await s.topo.addPod();
    const add = await s.cni('ADD', p, podNs, 'ctr-route-ok');
    assert.equal(add.exitCode, 0, add.stdout + add.stderr);
    const routes = JSON.parse(await ip('-4', '-j', '-n', podNs.name, 'route', 'show', 'default')) as {
      gateway?: string;
      dev?: string;
    }[];
    assert.deepEqual(
      routes.map((r) => [r.dev, r.gateway]),
      [['net1', '10.10.1.1']],
    );
    const status = await s.status(p);
    assert.deepEqual(status?.[1]?.['default-route'], ['10.10.1.1']);
    assert.equal((await s.cni('DEL', p, podNs, 'ctr-route-ok')).exitCode, 0);
    assert.deepEqual(await s.leftovers(podNs, ['podnet', 'mv']), nothing);
  });

  test('an empty default-route takes the gateway from the IPAM result', async (t) => {
    const s = await Scene.create(t, cp);
    const namespace = 'ipam-route';
    await threeNets(s, namespace);
    const p = await s.createPod(
      pod(namespace, 'routed', {
        'k8s.v1.cni.cncf.io/networks': JSON.stringify([{ name: 'mv', 'default-route': [] }]),
      }),
    );
    const podNs = await s.topo.addPod();
    const add = await s.cni('ADD', p, podNs, 'ctr-route-ipam');
    assert.equal(add.exitCode, 0, add.stdout + add.stderr);
    // host-local's gateway for 10.10.1.0/24 is the range's first address.
    const routes = JSON.parse(await ip('-4', '-j', '-n', podNs.name, 'route', 'show', 'default')) as {
      gateway?: string;
      dev?: string;
    }[];
    assert.deepEqual(
      routes.map((r) => [r.dev, r.gateway]),
      [['net1', '10.10.1.1']],
    );
    const status = await s.status(p);
    assert.deepEqual(status?.[1]?.['default-route'], ['10.10.1.1']);
    assert.equal((await s.cni('DEL', p, podNs, 'ctr-route-ipam')).exitCode, 0);
    assert.deepEqual(await s.leftovers(podNs, ['podnet', 'mv']), nothing);
  });

  test("a delegate's own CNI error code reaches the runtime (a real plugin's code 1)", async (t) => {
    const s = await Scene.create(t, cp);
    const namespace = 'plugin-code';
    await threeNets(s, namespace);
    // The reference plugins (1.1.x) speak CNI up to 1.0.0: macvlan answers a 1.1.0 config with
    // code 1, "incompatible CNI versions", before touching anything.
    await cp.client.create(
      nad(namespace, 'newer', {
        cniVersion: '1.1.0',
        type: 'macvlan',
        master: 'ens1',
        ipam: { type: 'host-local', ranges: [[{ subnet: '10.10.8.0/24' }]] },
      }),
    );
    const p = await s.createPod(pod(namespace, 'versioned', { 'k8s.v1.cni.cncf.io/networks': 'mv,newer' }));
    const podNs = await s.topo.addPod();
    const add = await s.cni('ADD', p, podNs, 'ctr-code');
    assert.notEqual(add.exitCode, 0);
    assert.equal(add.json?.['code'], 1, add.stdout);
    assert.match(String(add.json?.['msg']), /DELEGATE_FAILED/);
    assert.match(String(add.json?.['details']), /incompatible CNI versions/);
    assert.deepEqual(await s.leftovers(podNs, ['podnet', 'mv', 'newer']), nothing);
    assert.equal((await s.cni('DEL', p, podNs, 'ctr-code')).exitCode, 0);
  });

  test('a status write that the API refuses undoes every attachment', async (t) => {
    // An identity that may read pods and NADs but not patch pods/status.
    const c = cp.client;
    await c.create({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { namespace: 'kube-system', name: 'reader' },
    });
    await c.create({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'reader' },
      rules: [
        { apiGroups: [''], resources: ['pods'], verbs: ['get'] },
        { apiGroups: ['k8s.cni.cncf.io'], resources: ['network-attachment-definitions'], verbs: ['get'] },
        { apiGroups: [''], resources: ['events'], verbs: ['create'] },
      ],
    });
    await c.create({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'reader' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'reader' },
      subjects: [{ kind: 'ServiceAccount', namespace: 'kube-system', name: 'reader' }],
    });
    const tr = await c.create<KubeObject & { status: { token: string } }>(
      { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } },
      {
        ref: { apiVersion: 'v1', kind: 'ServiceAccount', namespace: 'kube-system', name: 'reader' },
        subresource: 'token',
      },
    );
    const text = (await readFile(cp.multinetKubeconfig, 'utf8')).replace(cp.multinetToken, tr.status.token);
    const kubeconfig = join(cp.dir, `reader-${++seq}.kubeconfig`);
    await writeFile(kubeconfig, text, { mode: 0o600 });
    const s = await Scene.create(t, cp, kubeconfig);
    const namespace = 'fail-status';
    await threeNets(s, namespace);
    const p = await s.createPod(pod(namespace, 'mute', { 'k8s.v1.cni.cncf.io/networks': 'mv,br' }));
    const podNs = await s.topo.addPod();
    const add = await s.cni('ADD', p, podNs, 'ctr-status');
    assert.notEqual(add.exitCode, 0);
    assert.match(String(add.json?.['details']), /cannot write the network-status annotation: .*403/);
    assert.deepEqual(await s.leftovers(podNs, ['podnet', 'mv', 'br']), nothing);
  });

  test('an invalid annotation fails with code 7 naming the element, and runs nothing', async (t) => {
    const s = await Scene.create(t, cp);
    const namespace = 'bad-input';
    await threeNets(s, namespace);
    const p = await s.createPod(
      pod(namespace, 'typo', { 'k8s.v1.cni.cncf.io/networks': '[{"name":"mv","mac":"zz:00:00:00:00:01"}]' }),
    );
    const podNs = await s.topo.addPod();
    const add = await s.cni('ADD', p, podNs, 'ctr-bad');
    assert.equal(add.exitCode, 1);
    assert.equal(add.json?.['code'], 7);
    assert.match(String(add.json?.['details']), /pod bad-input\/typo: .*"mac"/);
    assert.deepEqual(await s.leftovers(podNs, ['podnet', 'mv']), nothing);
  });
});

describe('DEL when the API server is gone', () => {
  test('succeeds from the cache and releases every address', async (t) => {
    const cp = await startControlPlane();
    t.after(() => cp.stop());
    const s = await Scene.create(t, cp);
    await cp.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'gone' } });
    await cp.client.create(
      nad('gone', 'mv', {
        cniVersion: '1.0.0',
        type: 'macvlan',
        master: 'ens1',
        ipam: { type: 'host-local', ranges: [[{ subnet: '10.10.1.0/24' }]] },
      }),
    );
    const p = await s.createPod(pod('gone', 'orphan', { 'k8s.v1.cni.cncf.io/networks': 'mv' }));
    const podNs = await s.topo.addPod();
    const add = await s.cni('ADD', p, podNs, 'ctr-gone');
    assert.equal(add.exitCode, 0, add.stdout + add.stderr);
    assert.equal((await allocations(s.hostLocal, 'mv')).length, 1);
    await cp.stop();
    const del = await s.cni('DEL', p, podNs, 'ctr-gone');
    assert.equal(del.exitCode, 0, del.stdout + del.stderr);
    assert.deepEqual(await s.leftovers(podNs, ['podnet', 'mv']), nothing);
  });
});
