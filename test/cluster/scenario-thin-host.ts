/**
 * Test 3, second half: thin mode on a host by following docs/thin-host.md, with no step the docs
 * do not name. The thick install goes first (its DaemonSet deleted: daemon.md says the shim's
 * 00-multinet.conflist stays while no daemon answers), then on one node exactly the doc's steps
 * 1-6, run inside the node (its mount and network namespaces), and a pod scheduled there gets
 * eth0 and net1 from the thin plugin; its delete leaves nothing; the doc's removal steps last.
 * The one substitution: the plugin is copied to a node-private path instead of /root (the node's
 * /root is the machine's).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { Cluster } from '../support/cluster.ts';
import type { ClusterNode } from '../support/cluster-node.ts';
import { PRIMARY_CONF } from '../support/cluster-node-config.ts';
import { TOOLBOX_IMAGE } from '../support/cluster-images.ts';
import { MULTINET_NAMESPACE, MULTINET_SELECTOR } from '../support/cluster-multinet.ts';
import { REPO_ROOT } from '../support/control-plane.ts';
import { PLUGIN_ENV } from '../support/netns.ts';
import {
  lanMacvlanNad,
  ipv4Of,
  nodeLeftovers,
  podLinks,
  sandboxIds,
  waitGone,
  waitRunning,
  waitUntil,
} from './cluster-checks.ts';

/** Where the doc's step 1 copies the plugin (the doc's /root is shared with the machine here). */
const PLUGIN_COPY = '/opt/cni/multinet-cni.cjs';
const POD = 'thin-pod';
const NAD = lanMacvlanNad('thin-lan', '192.168.1.170', '192.168.1.179');

/** `sh -c script` on the node (clean environment), `input` on its stdin; rejects on exit != 0. */
function nodeShell(node: ClusterNode, script: string, input = ''): Promise<string> {
  return new Promise((resolve, reject) => {
    const [bin, ...args] = [...node.enter(), 'sh', '-c', script];
    const child = spawn(bin!, args, { env: PLUGIN_ENV, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${node.name}: ${script}: exit ${code}: ${err}${out}`)),
    );
    child.stdin.end(input);
  });
}

async function conflistOn(node: ClusterNode): Promise<{ plugins: Record<string, unknown>[] }> {
  const text = await readFile(join(node.hostPath('/etc/cni/net.d'), '00-multinet.conflist'), 'utf8');
  return JSON.parse(text) as { plugins: Record<string, unknown>[] };
}

/** The thick install removed: the DaemonSet deleted and every one of its pods gone. */
async function removeThick(cluster: Cluster, node: ClusterNode): Promise<void> {
  await cluster.kubectl(['delete', 'daemonset', 'multinet', '-n', MULTINET_NAMESPACE, '--wait=true'], {
    timeoutMs: 90_000,
  });
  await waitUntil(
    "the DaemonSet's pods gone",
    async () =>
      (
        await cluster.kubectl([
          'get',
          'pods',
          '-n',
          MULTINET_NAMESPACE,
          '-l',
          MULTINET_SELECTOR,
          '-o',
          'name',
        ])
      ).trim() === '',
    90_000,
  );
  // docs/daemon.md: on stop the generated file is left in place (the shim answers 11 meanwhile).
  assert.equal((await conflistOn(node)).plugins[0]?.['type'], 'multinet-shim');
}

export async function runThinHostScenario(t: TestContext, cluster: Cluster): Promise<void> {
  const node = cluster.nodes[cluster.nodes.length - 1]!;
  await removeThick(cluster, node);
  const clusterNetwork = `/etc/cni/net.d/${PRIMARY_CONF}`;

  // 1. Build the plugin (done by the build) and copy it to the node.
  await copyFile(join(REPO_ROOT, 'dist/multinet-cni.cjs'), node.hostPath(PLUGIN_COPY));
  // 2. Cluster objects, once per cluster.
  await cluster.kubectl([
    'apply',
    '-f',
    join(REPO_ROOT, 'deploy/crds/'),
    '-f',
    join(REPO_ROOT, 'deploy/rbac/'),
  ]);
  await cluster.kubectl(['apply', '-f', join(REPO_ROOT, 'deploy/policy/')]);
  // 3. A token for this node, bound to its Node object, in a root-only file on the node.
  const nodeUid = await cluster.kubectl(['get', 'node', node.name, '-o', 'jsonpath={.metadata.uid}']);
  const token = await cluster.kubectl([
    'create',
    'token',
    'multinet',
    '-n',
    'kube-system',
    '--bound-object-kind',
    'Node',
    '--bound-object-name',
    node.name,
    '--bound-object-uid',
    nodeUid,
    '--duration',
    '24h',
  ]);
  await nodeShell(
    node,
    'install -d -m 700 /etc/cni/multinet && cat > /etc/cni/multinet/token.new && ' +
      'chmod 600 /etc/cni/multinet/token.new && mv /etc/cni/multinet/token.new /etc/cni/multinet/token',
    token,
  );
  // 4. A kubeconfig that reads that token file, on the node.
  await nodeShell(
    node,
    "cat > /etc/cni/multinet/kubeconfig <<'EOF'\n" +
      'apiVersion: v1\nkind: Config\n' +
      `clusters: [{name: cluster, cluster: {server: "${cluster.server}", certificate-authority: ${cluster.controlPlane.pki.caCert}}}]\n` +
      'users: [{name: multinet, user: {tokenFile: /etc/cni/multinet/token}}]\n' +
      'contexts: [{name: multinet, context: {cluster: cluster, user: multinet}}]\n' +
      'current-context: multinet\nEOF\nchmod 600 /etc/cni/multinet/kubeconfig',
  );
  // 5. Install, on the node.
  const installed = await node.exec([
    'node',
    PLUGIN_COPY,
    'install',
    '--type',
    'thin',
    '--source',
    PLUGIN_COPY,
    '--bin-dir',
    '/opt/cni/bin',
    '--cni-conf-dir',
    '/etc/cni/net.d',
    '--kubeconfig',
    '/etc/cni/multinet/kubeconfig',
    '--cluster-network',
    clusterNetwork,
  ]);
  t.diagnostic(`install on ${node.name}:\n${installed}`);
  const plugin = (await conflistOn(node)).plugins[0]!;
  assert.equal(plugin['type'], 'multinet', 'the thin conflist replaced the shim conflist');
  assert.equal(plugin['clusterNetwork'], clusterNetwork);

  // 6. Check: 00-multinet.conflist first; a NAD and a pod that selects it, on this node.
  const ls = (await node.exec(['ls', '/etc/cni/net.d'])).split('\n').filter(Boolean);
  assert.equal(ls[0], '00-multinet.conflist', ls.join(' '));
  await cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify(NAD) });
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: POD, namespace: 'default', annotations: { 'k8s.v1.cni.cncf.io/networks': 'thin-lan' } },
    spec: {
      nodeSelector: { 'kubernetes.io/hostname': node.name },
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'toolbox', image: TOOLBOX_IMAGE }],
    },
  };
  await cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify(pod) });
  const running = await waitRunning(cluster, POD);
  const ipA = await cluster.kubectl(['exec', POD, '--', 'ip', 'a']);
  t.diagnostic(`kubectl exec ${POD} -- ip a (on ${node.name}, thin mode):\n${ipA}`);
  const links = await podLinks(cluster, POD);
  assert.equal(ipv4Of(links, 'eth0'), running.status.podIP, 'eth0 carries the pod IP');
  assert.match(ipv4Of(links, 'net1') ?? '', /^192\.168\.1\.17\d$/, `net1 from thin-lan: ${ipA}`);
  const status = await node.exec([
    'node',
    PLUGIN_COPY,
    'status',
    `default/${POD}`,
    '--kubeconfig',
    cluster.kubeconfig,
  ]);
  t.diagnostic(`multinet status:\n${status}`);
  assert.match(status, /net1\s+default\/thin-lan\s+192\.168\.1\.17\d/);

  const [sandboxId] = await sandboxIds(node, running.metadata.uid);
  assert.ok(sandboxId, 'containerd lists the pod sandbox');
  await cluster.kubectl(['delete', 'pod', POD, '--wait=false']);
  await waitGone(cluster, POD);
  await waitUntil(`nothing left of ${sandboxId} on ${node.name}`, async () => {
    const left = await nodeLeftovers(node, sandboxId);
    return left.length === 0 ? true : undefined;
  });
  await cluster.kubectl(['delete', '-f', '-'], { input: JSON.stringify(NAD) });

  // The doc's removal: the conflist first, then multinet's files; the runtime is back on its own.
  await nodeShell(
    node,
    'rm /etc/cni/net.d/00-multinet.conflist && rm -r /etc/cni/net.d/multinet.d /opt/cni/bin/multinet /etc/cni/multinet',
  );
  assert.deepEqual((await node.exec(['ls', '/etc/cni/net.d'])).split('\n').filter(Boolean), [PRIMARY_CONF]);
}
