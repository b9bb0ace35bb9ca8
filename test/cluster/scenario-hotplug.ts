/**
 * Test 9, hot-plug (docs/hotplug.md) on the real kubelet. The admin turns it on as the doc says
 * (`"hotplug": true` in the ConfigMap's daemon.json, then a rollout restart). A pod `hot` runs
 * httpd on eth0 with no secondary network; a pod `peer` on the same node has a macvlan on the
 * LAN and fetches hot's page over eth0 every 200 ms for the whole scenario. Then, with
 * `kubectl annotate --overwrite` only:
 *   1. hot gets the macvlan as net1: network-status, an AddedInterface Event, NetworksReady True,
 *      and net1 reaches peer's net1 over the LAN;
 *   2. a network that does not exist is added beside it: that one fails (a HotplugFailed Warning,
 *      NetworksReady False naming it, `multinet status` lists it), net1 stays and still works;
 *   3. the annotation is removed: net1 leaves the pod and its host-local reservation is released;
 *      network-status holds the default network only, NetworksReady is True again.
 * Peer never missed a fetch; after both deletes the node holds nothing. The ConfigMap is put back.
 */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { readdir } from 'node:fs/promises';
import { runCli } from '../../src/cli/run-cli.ts';
import { parseNetworkStatus } from '../../src/spec/network-status.ts';
import { NETWORK_STATUS_ANNOTATION } from '../../src/spec/well-known.ts';
import type { Cluster } from '../support/cluster.ts';
import { TOOLBOX_IMAGE } from '../support/cluster-images.ts';
import { MULTINET_NAMESPACE } from '../support/cluster-multinet.ts';
import {
  getPod,
  ipv4Of,
  lanMacvlanNad,
  podEvents,
  nodeLeftovers,
  podLinks,
  waitGone,
  waitRunning,
  waitUntil,
} from './cluster-checks.ts';

const NETWORKS = 'k8s.v1.cni.cncf.io/networks';
const CONFIG_MAP = 'multinet-daemon-config';

const NAD = lanMacvlanNad('hot-lan', '192.168.1.120', '192.168.1.129');

async function networksReady(
  cluster: Cluster,
  pod: string,
): Promise<{ status: string; reason?: string; message?: string } | undefined> {
  const out = await cluster.kubectl(['get', 'pod', pod, '-o', 'jsonpath={.status.conditions}']);
  const all = out.trim() === '' ? [] : (JSON.parse(out) as { type: string; status: string }[]);
  return all.find((c) => c.type === 'NetworksReady');
}

async function statusNames(cluster: Cluster, pod: string): Promise<string[]> {
  const p = await getPod(cluster, pod);
  const text = p.metadata.annotations?.[NETWORK_STATUS_ANNOTATION];
  return text ? parseNetworkStatus(text).map((e) => `${e.name}@${e.interface ?? ''}`) : [];
}

/** Sets `hotplug` in the ConfigMap's daemon.json and rolls the DaemonSet, as docs/hotplug.md says. */
async function setHotplug(cluster: Cluster, daemonJson: string): Promise<void> {
  const patch = { data: { 'daemon.json': daemonJson } };
  await cluster.kubectl([
    'patch',
    'configmap',
    CONFIG_MAP,
    '-n',
    MULTINET_NAMESPACE,
    '--type',
    'merge',
    '-p',
    JSON.stringify(patch),
  ]);
  await cluster.kubectl(['rollout', 'restart', 'daemonset/multinet', '-n', MULTINET_NAMESPACE]);
  await cluster.kubectl(
    ['rollout', 'status', 'daemonset/multinet', '-n', MULTINET_NAMESPACE, '--timeout=180s'],
    { timeoutMs: 190_000 },
  );
}

/** The host-local reservations of a node that hold `ip`. */
async function reservationsOf(dir: string, ip: string): Promise<string[]> {
  const files = await readdir(dir, { recursive: true }).catch(() => [] as string[]);
  return files.filter((f) => f.split('/').pop() === ip);
}

export async function runHotplugScenario(t: TestContext, cluster: Cluster): Promise<void> {
  const node = cluster.nodes[0]!;
  const original = JSON.parse(
    await cluster.kubectl(['get', 'configmap', CONFIG_MAP, '-n', MULTINET_NAMESPACE, '-o', 'json']),
  ) as { data: { 'daemon.json': string } };
  const originalJson = original.data['daemon.json'];
  const enabled = { ...(JSON.parse(originalJson) as Record<string, unknown>), hotplug: true };
  t.after(async () => {
    await cluster.kubectl(['delete', 'pod', 'hot', 'peer', '--ignore-not-found', '--wait=false']);
    await cluster.kubectl(['delete', 'network-attachment-definitions', 'hot-lan', '--ignore-not-found']);
    await setHotplug(cluster, originalJson);
  });
  await setHotplug(cluster, `${JSON.stringify(enabled, null, 2)}\n`);

  const onNode = { nodeSelector: { 'kubernetes.io/hostname': node.name }, terminationGracePeriodSeconds: 1 };
  await cluster.kubectl(['apply', '-f', '-'], {
    input: [
      JSON.stringify(NAD),
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'hot', namespace: 'default' },
        spec: {
          ...onNode,
          // busybox httpd answers 404 without an index page: serve one from /tmp.
          containers: [
            {
              name: 'toolbox',
              image: TOOLBOX_IMAGE,
              command: ['sh', '-c', 'echo hot > /tmp/index.html && exec httpd -f -p 8080 -h /tmp'],
            },
          ],
        },
      }),
    ].join('\n'),
  });
  const hot = await waitRunning(cluster, 'hot');
  const hotIp = hot.status.podIP!;
  assert.ok(hotIp, 'hot has a pod IP');
  assert.deepEqual(
    (await podLinks(cluster, 'hot')).map((l) => l.ifname).filter((n) => n !== 'lo'),
    ['eth0'],
    'hot starts with eth0 only',
  );
  // peer: fetches hot's page over eth0 five times a second and logs each outcome (busybox's
  // `wget -T` segfaults: the timeout comes from `timeout`).
  const loop = `while :; do if timeout 3 wget -q -O /dev/null http://${hotIp}:8080/; then echo ok; else echo FAIL; fi; sleep 0.2; done`;
  await cluster.kubectl(['apply', '-f', '-'], {
    input: JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'peer', namespace: 'default', annotations: { [NETWORKS]: 'hot-lan' } },
      spec: {
        ...onNode,
        containers: [{ name: 'toolbox', image: TOOLBOX_IMAGE, command: ['sh', '-c', loop] }],
      },
    }),
  });
  await waitRunning(cluster, 'peer');
  const peerLan = ipv4Of(await podLinks(cluster, 'peer'), 'net1');
  assert.match(peerLan ?? '', /^192\.168\.1\.12\d$/, 'peer has net1 on the LAN');
  await waitUntil('peer fetching from hot', async () =>
    (await cluster.kubectl(['logs', 'peer'])).includes('ok'),
  ).catch(async (err: Error) => {
    const log = await cluster.kubectl(['logs', 'peer', '--tail=5']).catch((e: Error) => e.message);
    const hotLog = await cluster.kubectl(['logs', 'hot', '--tail=5']).catch((e: Error) => e.message);
    throw new Error(`${err.message}; peer log: ${log}; hot log: ${hotLog}`);
  });

  // 1. Add.
  await cluster.kubectl(['annotate', 'pod', 'hot', '--overwrite', `${NETWORKS}=hot-lan`]);
  const hotLan = await waitUntil(
    'net1 hot-plugged into hot',
    async () => ipv4Of(await podLinks(cluster, 'hot'), 'net1'),
    60_000,
  );
  assert.match(hotLan, /^192\.168\.1\.12\d$/);
  assert.notEqual(hotLan, peerLan);
  const listed = await waitUntil('network-status listing net1', async () => {
    const names = await statusNames(cluster, 'hot');
    return names.includes('default/hot-lan@net1') ? names : undefined;
  });
  t.diagnostic(`network-status after the add: ${listed.join(' ')}`);
  assert.equal(listed.length, 2, 'the default network and hot-lan');
  const added = await waitUntil('the AddedInterface Event of the hot-plug', async () =>
    (await podEvents(cluster, 'hot')).find(
      (e) => e.reason === 'AddedInterface' && /hot-plug/.test(e.message),
    ),
  );
  t.diagnostic(`event: ${added.message}`);
  assert.match(added.message, /net1/);
  assert.equal((await waitUntil('NetworksReady', () => networksReady(cluster, 'hot')))?.status, 'True');
  await cluster.kubectl(['exec', 'hot', '--', 'ping', '-c', '2', '-W', '3', '-I', 'net1', peerLan!]);

  // 2. A network that does not exist beside it: only that one fails.
  await cluster.kubectl(['annotate', 'pod', 'hot', '--overwrite', `${NETWORKS}=hot-lan,no-such-net`]);
  const failed = await waitUntil('NetworksReady=False after the failed hot-plug', async () => {
    const c = await networksReady(cluster, 'hot');
    return c?.status === 'False' ? c : undefined;
  });
  t.diagnostic(`NetworksReady: ${failed.reason}: ${failed.message}`);
  assert.equal(failed.reason, 'HotplugFailed');
  assert.match(failed.message ?? '', /no-such-net/);
  const warning = await waitUntil('the HotplugFailed Warning', async () =>
    (await podEvents(cluster, 'hot')).find((e) => e.reason === 'HotplugFailed'),
  );
  assert.equal(warning.type, 'Warning');
  assert.match(warning.message, /no-such-net/);
  let status = '';
  const io = { stdout: (x: string) => (status += x), stderr: () => {}, env: {}, isTty: false };
  await runCli(['status', 'default/hot', '--kubeconfig', cluster.kubeconfig], io);
  t.diagnostic(`multinet status:\n${status}`);
  assert.match(status, /HotplugFailed/);
  assert.equal(ipv4Of(await podLinks(cluster, 'hot'), 'net1'), hotLan, 'net1 untouched by the failure');
  await cluster.kubectl(['exec', 'hot', '--', 'ping', '-c', '1', '-W', '3', '-I', 'net1', peerLan!]);

  // 3. Remove.
  await cluster.kubectl(['annotate', 'pod', 'hot', `${NETWORKS}-`]);
  await waitUntil(
    'net1 gone from hot',
    async () => !(await podLinks(cluster, 'hot')).some((l) => l.ifname === 'net1'),
    60_000,
  );
  const back = await waitUntil('network-status with the default network only', async () => {
    const names = await statusNames(cluster, 'hot');
    return names.length === 1 ? names : undefined;
  });
  assert.ok(!back.some((n) => n.includes('hot-lan')), `network-status: ${back.join(' ')}`);
  const ready = await waitUntil('NetworksReady True again', async () => {
    const c = await networksReady(cluster, 'hot');
    return c?.status === 'True' ? c : undefined;
  });
  assert.equal(ready.reason, 'NetworksAttached');
  assert.deepEqual(
    await reservationsOf(node.hostPath('/var/lib/cni/networks'), hotLan),
    [],
    `the reservation of ${hotLan} is released`,
  );
  assert.equal((await getPod(cluster, 'hot')).status.podIP, hotIp, 'eth0 kept its address');

  const log = (await cluster.kubectl(['logs', 'peer'])).split('\n').filter(Boolean);
  t.diagnostic(
    `peer's fetches of hot over eth0: ${log.length}, failed: ${log.filter((l) => l !== 'ok').length}`,
  );
  assert.ok(log.length >= 10, `peer fetched throughout (${log.length} fetches)`);
  assert.deepEqual(
    log.filter((l) => l !== 'ok'),
    [],
    'hot served on eth0 throughout',
  );

  await cluster.kubectl(['delete', 'pod', 'hot', 'peer', '--wait=false']);
  await Promise.all([waitGone(cluster, 'hot'), waitGone(cluster, 'peer')]);
  await waitUntil(`nothing left on ${node.name}`, async () =>
    (await nodeLeftovers(node)).length === 0 ? true : undefined,
  ).catch(async (err: Error) => {
    throw new Error(`${err.message}: ${(await nodeLeftovers(node)).join(', ')}`);
  });
}
