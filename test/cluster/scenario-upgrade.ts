/**
 * Test 4, the upgrade lane: while pods are created and deleted in a loop, the DaemonSet is rolled
 * to a new image (a second tag of the image built from the repository). No pod may come up with
 * fewer interfaces than it asked for (Multus's daemon deleted its config on shutdown, and pods
 * started on the bare cluster network meanwhile); an ADD in the gap gets code 11 and the
 * kubelet's retry succeeds; nothing leaks; 00-multinet.conflist never goes away.
 *
 * The gap is made certain, not left to timing: the new DaemonSet's init container waits
 * GAP_SECONDS before it installs the shim, and while a node is in that gap (its old daemon gone,
 * the new one not started) a pod is created on that node. Its first sandbox ADD must fail with
 * the shim's code 11, and the kubelet's retry must bring it up with every network.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { Cluster } from '../support/cluster.ts';
import { buildMultinetImage, MULTINET_IMAGE, TOOLBOX_IMAGE } from '../support/cluster-images.ts';
import { MULTINET_NAMESPACE } from '../support/cluster-multinet.ts';
import { ipv4Of, nodeLeftovers, podLinks, sandboxIds, waitRunning, waitUntil } from './cluster-checks.ts';

const NEXT_IMAGE = `${MULTINET_IMAGE}-next`;
const GAP_SECONDS = 12;

const NAD = {
  apiVersion: 'k8s.cni.cncf.io/v1',
  kind: 'NetworkAttachmentDefinition',
  metadata: { name: 'upgrade-lan', namespace: 'default' },
  spec: {
    config: JSON.stringify({
      cniVersion: '1.0.0',
      type: 'macvlan',
      master: 'eth0',
      mode: 'bridge',
      ipam: {
        type: 'host-local',
        ranges: [[{ subnet: '192.168.1.0/24', rangeStart: '192.168.1.160', rangeEnd: '192.168.1.199' }]],
      },
    }),
  },
};

function pod(name: string, nodeName?: string): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', annotations: { 'k8s.v1.cni.cncf.io/networks': 'upgrade-lan' } },
    spec: {
      terminationGracePeriodSeconds: 1,
      ...(nodeName ? { nodeName } : {}),
      containers: [{ name: 'toolbox', image: TOOLBOX_IMAGE }],
    },
  };
}

interface DaemonPod {
  spec: { nodeName?: string; containers: { image: string }[] };
  status: { initContainerStatuses?: { state?: { running?: object } }[] };
}

/** The node whose new daemon pod is in its init container's wait: no daemon answers there. */
async function nodeInGap(cluster: Cluster): Promise<string | undefined> {
  const list = JSON.parse(
    await cluster.kubectl([
      'get',
      'pods',
      '-n',
      MULTINET_NAMESPACE,
      '-l',
      'app.kubernetes.io/name=multinet',
      '-o',
      'json',
    ]),
  ) as { items: DaemonPod[] };
  const waiting = list.items.find(
    (p) =>
      p.spec.containers[0]?.image === NEXT_IMAGE &&
      p.status.initContainerStatuses?.[0]?.state?.running !== undefined,
  );
  return waiting?.spec.nodeName;
}

interface Round {
  pod: string;
  node: string;
  sandboxes: string[];
  links: string[];
  sandboxFailures: string[];
}

async function sandboxFailures(cluster: Cluster, name: string): Promise<string[]> {
  const out = await cluster.kubectl([
    'get',
    'events',
    '-n',
    'default',
    '--field-selector',
    `involvedObject.name=${name},reason=FailedCreatePodSandBox`,
    '-o',
    'jsonpath={range .items[*]}{.message}{"\\n"}{end}',
  ]);
  return out.split('\n').filter(Boolean);
}

async function oneRound(cluster: Cluster, name: string, nodeName?: string): Promise<Round> {
  await cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify(pod(name, nodeName)) });
  const running = await waitRunning(cluster, name, 'default', 180_000);
  const node = running.spec.nodeName!;
  const links = (await podLinks(cluster, name))
    .filter((l) => l.ifname !== 'lo' && ipv4Of([l], l.ifname))
    .map((l) => l.ifname);
  const round: Round = {
    pod: name,
    node,
    sandboxes: await sandboxIds(cluster.node(node), running.metadata.uid),
    links,
    sandboxFailures: await sandboxFailures(cluster, name),
  };
  await cluster.kubectl(['delete', 'pod', name, '--wait=false']);
  // A pod deleted while its node's daemon is being replaced stays Terminating until the new
  // daemon answers the kubelet's retried DEL (docs/troubleshooting.md): allow for the rollout.
  await waitUntil(
    `pod ${name} gone`,
    async () =>
      (await cluster.kubectl(['get', 'pod', name, '--ignore-not-found', '-o', 'name'])).trim() === '',
    240_000,
  );
  return round;
}

export async function runUpgradeScenario(t: TestContext, cluster: Cluster): Promise<void> {
  const tarball = await buildMultinetImage({ name: NEXT_IMAGE });
  for (const node of cluster.nodes) await node.importImage(tarball);
  await cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify(NAD) });

  // The runtime's view of multinet, checked all along: the generated config must never go away.
  let configMissing = 0;
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      for (const node of cluster.nodes)
        if (!existsSync(join(node.hostPath('/etc/cni/net.d'), '00-multinet.conflist'))) configMissing++;
      await new Promise((r) => setTimeout(r, 50));
    }
  })();

  const rounds: Round[] = [];
  let rolled = false;
  const loop = (async () => {
    // Until the rollout is done, and two more rounds with the new daemons.
    for (let i = 0, after = 0; after < 2; i++) {
      rounds.push(await oneRound(cluster, `upgrade-${i}`));
      if (rolled) after++;
    }
  })();
  // Its failure is reported by the `await loop` below, not as an unhandled rejection meanwhile.
  loop.catch(() => undefined);
  await new Promise((r) => setTimeout(r, 1_000));
  const ds = JSON.parse(
    await cluster.kubectl(['get', 'daemonset/multinet', '-n', MULTINET_NAMESPACE, '-o', 'json']),
  ) as { spec: { template: { spec: { initContainers: { name: string; command: string[] }[] } } } };
  const install = ds.spec.template.spec.initContainers.findIndex((c) => c.name === 'install-shim');
  assert.ok(install >= 0, 'the DaemonSet has its install-shim init container');
  const installCommand = ds.spec.template.spec.initContainers[install]!.command;
  await cluster.kubectl([
    'patch',
    'daemonset/multinet',
    '-n',
    MULTINET_NAMESPACE,
    '--type=json',
    '-p',
    JSON.stringify([
      { op: 'replace', path: '/spec/template/spec/containers/0/image', value: NEXT_IMAGE },
      { op: 'replace', path: `/spec/template/spec/initContainers/${install}/image`, value: NEXT_IMAGE },
      {
        op: 'replace',
        path: `/spec/template/spec/initContainers/${install}/command`,
        value: ['sh', '-c', `sleep ${GAP_SECONDS}; exec "$@"`, 'sh', ...installCommand],
      },
    ]),
  ]);
  // A pod created on a node in the gap: its ADD meets no daemon.
  const gapNode = await waitUntil(
    'a node whose new daemon waits in its init container',
    () => nodeInGap(cluster),
    120_000,
  );
  const gapRound = oneRound(cluster, 'upgrade-gap', gapNode);
  gapRound.catch(() => undefined);
  await cluster.kubectl(
    ['rollout', 'status', 'daemonset/multinet', '-n', MULTINET_NAMESPACE, '--timeout=240s'],
    { timeoutMs: 250_000 },
  );
  rolled = true;
  try {
    await loop;
    rounds.push(await gapRound);
  } finally {
    watching = false;
    await watcher;
  }

  const images = await cluster.kubectl([
    'get',
    'pods',
    '-n',
    MULTINET_NAMESPACE,
    '-l',
    'app.kubernetes.io/name=multinet',
    '-o',
    'jsonpath={.items[*].spec.containers[0].image}',
  ]);
  assert.deepEqual(
    images.split(' ').sort(),
    cluster.nodes.map(() => NEXT_IMAGE),
    'every daemon runs the new image',
  );
  const gap = rounds.find((r) => r.pod === 'upgrade-gap')!;
  assert.equal(gap.node, gapNode);
  assert.ok(
    gap.sandboxFailures.some((m) => /multinet daemon not reachable/.test(m)),
    `the pod created in ${gapNode}'s gap first failed with the shim's code 11: ${JSON.stringify(gap.sandboxFailures)}`,
  );
  const retried = rounds.filter((r) => r.sandboxFailures.length > 0);
  t.diagnostic(
    `${rounds.length} pods created and deleted during the rollout; ${retried.length} had a failed sandbox ADD before Running`,
  );
  for (const r of rounds) {
    assert.deepEqual(r.links.sort(), ['eth0', 'net1'], `${r.pod} on ${r.node}: interfaces`);
    // A failed ADD in the gap must be the shim's "try again later", never a half-configured pod.
    for (const m of r.sandboxFailures) assert.match(m, /multinet|code 11|not reachable|try again/i, m);
  }
  assert.equal(configMissing, 0, '00-multinet.conflist was missing on a node during the rollout');
  for (const r of rounds)
    for (const id of r.sandboxes) {
      const node = cluster.node(r.node);
      await waitLeftovers(node, id, r.pod);
    }
}

async function waitLeftovers(
  node: ReturnType<Cluster['node']>,
  sandboxId: string,
  pod: string,
): Promise<void> {
  const deadline = Date.now() + 60_000;
  let left: string[] = [];
  while (Date.now() < deadline) {
    left = await nodeLeftovers(node, sandboxId);
    if (left.length === 0) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  assert.deepEqual(left, [], `${pod}: leftovers of sandbox ${sandboxId} on ${node.name}`);
}
