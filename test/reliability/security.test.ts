/**
 * Security properties, checked on the real daemon, the real thin plugin and a real kube-apiserver:
 * - the socket is 0600 in a 0700 directory and the caches are 0700/0600, all owned by root;
 * - with logLevel debug, neither the daemon's log nor the plugin's output ever contains the
 *   ServiceAccount token or an Authorization header, on success or failure paths, and not when
 *   the kubeconfig holding the token is malformed;
 * - RBAC (extends test/e2e/rbac.test.ts): every request multinet's ServiceAccount made in these
 *   runs is one it needs and was allowed, and SubjectAccessReview refuses secrets, cluster-wide
 *   pod writes and NAD writes.
 */
import assert from 'node:assert/strict';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, describe } from 'node:test';
import { cachedObjects, scrape, waitFor, waitForCached } from '../integration/daemon-harness.ts';
import { runCni, type CniOutcome } from '../support/cni-runtime.ts';
import { MULTINET_SERVICE_ACCOUNT, startControlPlane, type ControlPlane } from '../support/control-plane.ts';
import { forwardApiForFaults } from '../support/fault-api.ts';
import { record, recordLeaks, scenario } from '../support/fault-report.ts';
import { bridgeNet, buildThinPlugin, FaultScene, leakList, podArgs } from '../support/fault-scene.ts';
import type { KubeObject } from '../support/kube-client.ts';

const NODE = 'node-security';
const SA_USER = `system:serviceaccount:${MULTINET_SERVICE_ACCOUNT.namespace}:${MULTINET_SERVICE_ACCOUNT.name}`;

/** What multinet may do (deploy/rbac): verb + resource[/subresource], and whether cluster-wide. */
const NEEDED = new Set([
  'get pods',
  'list pods',
  'watch pods',
  'patch pods/status',
  'get network-attachment-definitions',
  'list network-attachment-definitions',
  'watch network-attachment-definitions',
  'get networks',
  'list networks',
  'watch networks',
  'create events',
  'patch events',
]);
const REFUSED = [
  { verb: 'get', resource: 'secrets', namespace: 'kube-system' },
  { verb: 'list', resource: 'secrets' },
  { verb: 'update', resource: 'pods' },
  { verb: 'patch', resource: 'pods' },
  { verb: 'update', resource: 'pods', subresource: 'status' },
  { verb: 'delete', resource: 'pods', namespace: 'sec' },
  { verb: 'create', resource: 'network-attachment-definitions', group: 'k8s.cni.cncf.io', namespace: 'sec' },
  { verb: 'update', resource: 'network-attachment-definitions', group: 'k8s.cni.cncf.io', namespace: 'sec' },
  { verb: 'delete', resource: 'network-attachment-definitions', group: 'k8s.cni.cncf.io' },
  { verb: 'create', resource: 'serviceaccounts', subresource: 'token', namespace: 'kube-system' },
];

async function modeOf(path: string): Promise<{ mode: string; uid: number }> {
  const st = await stat(path);
  return { mode: (st.mode & 0o777).toString(8), uid: st.uid };
}

/** Every secret-looking thing found in `text`. */
function secretsIn(text: string, token: string): string[] {
  const found: string[] = [];
  if (text.includes(token)) found.push('the token');
  // Error messages may quote a line cut short: any 24 characters of it count.
  for (let i = 0; i + 24 <= token.length; i += 4)
    if (text.includes(token.slice(i, i + 24))) {
      found.push(`part of the token (from character ${i})`);
      break;
    }
  if (/bearer/i.test(text)) found.push('"Bearer"');
  if (/authorization/i.test(text) && !/"?authorization"?:\s*"\[redacted\]"/i.test(text))
    found.push('an authorization field');
  return found;
}

describe('security: file modes, secrets in logs, RBAC', { timeout: 180_000 }, () => {
  let cp: ControlPlane;
  before(async () => {
    cp = await startControlPlane();
    await cp.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'sec' } });
  });
  after(async () => {
    await cp?.stop();
  });

  scenario('socket 0600 in a 0700 directory, caches 0700 with 0600 files, all owned by root', async (t) => {
    const s = await FaultScene.create(t, (topo) => ({
      primary: bridgeNet(topo, 'podnet', '10.140.0.0/24', 'mnq0'),
      bridges: ['mnq0'],
    }));
    await s.start();
    const pod = await s.topo.addPod();
    assert.equal((await s.call('ADD', 'sec1', pod)).exitCode, 0);
    const checks: [string, string][] = [
      [s.setup.socketPath, '600'],
      [dirname(s.setup.socketPath), '700'],
      [s.cacheDir, '700'],
      [join(s.cacheDir, 'plans'), '700'],
      [join(s.cacheDir, 'results'), '700'],
      [join(s.cacheDir, 'plans', 'sec1'), '600'],
      [join(s.cacheDir, 'results', 'podnet-sec1-eth0'), '600'],
    ];
    for (const [path, mode] of checks) assert.deepEqual(await modeOf(path), { mode, uid: 0 }, path);
    assert.equal((await s.call('DEL', 'sec1', pod)).exitCode, 0);
    assert.deepEqual(recordLeaks('file modes: after DEL', leakList(await s.leftovers([pod]))), []);
  });

  scenario('no token or Authorization header in the daemon or plugin logs (logLevel debug)', async (t) => {
    const token = cp.multinetToken;
    const s = await FaultScene.create(t, (topo) => ({
      primary: bridgeNet(topo, 'podnet', '10.141.0.0/24', 'mnq1'),
      daemon: {
        kubeconfig: cp.multinetKubeconfig,
        nodeName: NODE,
        podLookupTimeoutSeconds: 1,
        logLevel: 'debug',
      },
      bridges: ['mnq1'],
      ipamNetworks: ['mv'],
    }));
    t.after(await forwardApiForFaults(cp.server, s.topo.node, s.topo.tmpDir));
    const daemon = await s.start();
    const port = await daemon.metricsPort();
    await waitFor('caches synced', () => /"ready":true/.test(scrape(s.topo, port, '/readyz')), 20_000);
    const held = cachedObjects(s.topo, port);
    const mv = {
      cniVersion: '1.0.0',
      name: 'mv',
      type: 'macvlan',
      master: 'ens1',
      ipam: { type: 'host-local', ranges: [[{ subnet: '10.141.1.0/24' }]], dataDir: s.topo.dataDir },
    };
    await cp.client.create({
      apiVersion: 'k8s.cni.cncf.io/v1',
      kind: 'NetworkAttachmentDefinition',
      metadata: { namespace: 'sec', name: 'mv' },
      spec: { config: JSON.stringify(mv) },
    });
    const mkPod = async (name: string, networks: string) => {
      const created = await cp.client.create<KubeObject>({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { namespace: 'sec', name, annotations: { 'k8s.v1.cni.cncf.io/networks': networks } },
        spec: { nodeName: NODE, containers: [{ name: 'c', image: 'example.invalid/none' }] },
      });
      return podArgs(name, 'sec', created.metadata!.uid!);
    };
    const good = await mkPod('good', 'mv');
    const missing = await mkPod('missing', 'no-such-nad');
    await waitForCached(s.topo, port, {
      pods: held['pods']! + 2,
      'network-attachment-definitions': held['network-attachment-definitions']! + 1,
    });
    const podNs = await s.topo.addPod();
    const outputs: CniOutcome[] = [];
    // Through the daemon: success, a missing NAD, a pod the API does not know, a wrong UID.
    outputs.push(await s.call('ADD', 'd-good', podNs, good));
    outputs.push(await s.call('DEL', 'd-good', podNs, good));
    outputs.push(await s.call('ADD', 'd-missing', podNs, missing));
    outputs.push(await s.call('ADD', 'd-ghost', podNs, podArgs('ghost', 'sec', 'uid-ghost')));
    outputs.push(await s.call('ADD', 'd-uid', podNs, { ...good, K8S_POD_UID: 'not-the-uid' }));
    assert.equal(outputs[0]!.exitCode, 0, outputs[0]!.stdout);

    // The thin plugin, with the same token, on the same paths, and with a malformed kubeconfig.
    const thin = (
      command: 'ADD' | 'DEL',
      id: string,
      args: Record<string, string>,
      kubeconfig = cp.multinetKubeconfig,
    ) =>
      runCni(
        {
          command,
          containerId: id,
          netns: podNs.path,
          args,
          config: {
            cniVersion: '1.0.0',
            name: 'multinet',
            type: 'multinet',
            kubeconfig,
            clusterNetworkConfig: bridgeNet(s.topo, 'podnet', '10.141.0.0/24', 'mnq1'),
            cacheDir: join(s.topo.tmpDir, 'thin-cache'),
            binDirs: ['/usr/lib/cni'],
            podLookupTimeoutSeconds: 1,
            logLevel: 'debug',
          },
        },
        { nodeNs: s.topo.node, hostLocalDir: join(s.topo.tmpDir, 'host-local'), plugin: buildThinPlugin() },
      );
    outputs.push(await thin('ADD', 't-good', good));
    assert.equal(outputs.at(-1)!.exitCode, 0, outputs.at(-1)!.stdout + outputs.at(-1)!.stderr);
    outputs.push(await thin('DEL', 't-good', good));
    outputs.push(await thin('ADD', 't-missing', missing));
    outputs.push(await thin('ADD', 't-uid', { ...good, K8S_POD_UID: 'not-the-uid' }));
    const text = await readFile(cp.multinetKubeconfig, 'utf8');
    const broken = join(s.topo.tmpDir, 'broken.kubeconfig');
    // A token line that does not parse: YAML error messages quote the offending line.
    await writeFile(broken, text.replace(`token: ${token}`, `token: ${token}: [oops`), { mode: 0o600 });
    assert.ok((await readFile(broken, 'utf8')).includes(token));
    outputs.push(await thin('ADD', 't-broken', good, broken));
    assert.equal(outputs.at(-1)!.exitCode, 1, 'a malformed kubeconfig fails the call');
    outputs.push(await thin('DEL', 't-broken', good, broken));

    // A daemon that cannot parse its kubeconfig must not print it either.
    await s.kill();
    const bad = await s.start({ kubeconfig: broken }, { waitReady: false });
    assert.equal(await bad.exited, 1, 'a daemon with a malformed kubeconfig does not start');
    assert.match(bad.describe(), /not valid YAML at line 11/);
    const logs = [
      ...outputs.map((o) => `${o.stdout}\n${o.stderr}`),
      daemon.describe(),
      bad.describe(),
      // Events multinet wrote on the pods (their messages carry error texts).
      JSON.stringify((await cp.client.list({ apiVersion: 'v1', kind: 'Event', namespace: 'sec' })).items),
    ].join('\n');
    const found = secretsIn(logs, token);
    record({
      kind: 'note',
      scenario: 'secrets in logs',
      text: `${logs.length} bytes of daemon and plugin output at debug level searched; found: ${found.join(', ') || 'nothing'}`,
    });
    assert.deepEqual(found, [], 'no secret in any log or CNI answer');
    for (const l of logs
      .split('\n')
      .filter((x) => x.includes('kubeconfig'))
      .slice(0, 3))
      assert.ok(!l.includes(token), l);
    // Nothing left by the thin plugin either.
    assert.deepEqual(await readdir(join(s.topo.tmpDir, 'thin-cache', 'plans')).catch(() => []), []);
  });

  scenario(
    "RBAC: every request of multinet's ServiceAccount was needed and allowed; the rest is refused",
    async () => {
      const events = (await cp.readAudit()).filter(
        (e) => e.user.username === SA_USER && e.stage === 'ResponseComplete',
      );
      assert.ok(events.length > 0, 'the previous scenario made requests as the ServiceAccount');
      const used = new Set<string>();
      const denied: string[] = [];
      for (const e of events) {
        const r = e.objectRef ?? {};
        const what = `${e.verb} ${r.resource}${r.subresource ? `/${r.subresource}` : ''}`;
        used.add(what);
        if (e.responseStatus?.code === 403) denied.push(`${what} ${r.namespace ?? ''}/${r.name ?? ''}`);
      }
      assert.deepEqual(denied, [], 'nothing multinet tried was refused');
      assert.deepEqual(
        [...used].filter((u) => !NEEDED.has(u)),
        [],
        `unexpected requests: ${[...used].join(', ')}`,
      );
      const review = async (a: {
        verb: string;
        resource: string;
        group?: string;
        subresource?: string;
        namespace?: string;
      }) =>
        (
          await cp.client.create<KubeObject & { status: { allowed: boolean } }>({
            apiVersion: 'authorization.k8s.io/v1',
            kind: 'SubjectAccessReview',
            spec: {
              user: SA_USER,
              groups: [
                'system:serviceaccounts',
                `system:serviceaccounts:${MULTINET_SERVICE_ACCOUNT.namespace}`,
                'system:authenticated',
              ],
              resourceAttributes: {
                verb: a.verb,
                group: a.group ?? '',
                resource: a.resource,
                subresource: a.subresource ?? '',
                namespace: a.namespace ?? '',
              },
            },
          })
        ).status.allowed;
      const groupOf = (resource: string) =>
        resource.startsWith('network-attachment')
          ? 'k8s.cni.cncf.io'
          : resource === 'networks'
            ? 'kubernetes.cni.cncf.io'
            : '';
      for (const u of used) {
        const [verb, rest] = u.split(' ') as [string, string];
        const [resource, subresource] = rest.split('/') as [string, string | undefined];
        assert.ok(
          await review({
            verb,
            resource,
            group: groupOf(resource),
            namespace: 'sec',
            ...(subresource ? { subresource } : {}),
          }),
          `${u} is allowed`,
        );
      }
      const granted = [];
      for (const a of REFUSED) if (await review(a)) granted.push(JSON.stringify(a));
      assert.deepEqual(granted, [], 'refused');
      record({
        kind: 'note',
        scenario: 'RBAC',
        text: `requests seen: ${[...used].sort().join(', ')}; ${REFUSED.length} forbidden accesses refused`,
      });
    },
  );
});
