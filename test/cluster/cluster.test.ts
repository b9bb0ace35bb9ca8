/**
 * The real cluster (issue 11): one two-node cluster (test/support/cluster.ts: kubelet 1.37,
 * containerd 1.6, the control plane of control-plane.ts) for every scenario of this file, in
 * order; multinet installed as a user installs it. docs/cluster.md says how it is built.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { startCluster, type Cluster } from '../support/cluster.ts';
import { installThick, MULTINET_NAMESPACE } from '../support/cluster-multinet.ts';
import { missingClusterPrerequisite } from './cluster-prerequisites.ts';
import { run2018Scenario, type DeletedSandbox } from './scenario-2018.ts';
import { runDevicePluginScenario } from './scenario-device-plugin.ts';
import { runDraScenario } from './scenario-dra.ts';
import { runHotplugScenario } from './scenario-hotplug.ts';
import { runLateNadScenario } from './scenario-late-nad.ts';
import { runModernScenario } from './scenario-modern.ts';
import { runSandboxGcScenario } from './scenario-sandbox-gc.ts';
import { runRebootScenario } from './scenario-reboot.ts';
import { runUpgradeScenario } from './scenario-upgrade.ts';
import { runThinHostScenario } from './scenario-thin-host.ts';

const missing = await missingClusterPrerequisite();
const run = promisify(execFile);
/** The kubelet's three (docs/cluster.md, "What it is"), and forwarding: none may change on the host. */
const HOST_SYSCTLS = ['kernel/panic', 'kernel/panic_on_oops', 'vm/overcommit_memory', 'net/ipv4/ip_forward'];

/** What the cluster must leave as it is on the host: sysctls, eth0, routes not on its own links. */
async function hostView(): Promise<Record<string, string>> {
  const view: Record<string, string> = {};
  for (const k of HOST_SYSCTLS) view[k] = (await readFile(`/proc/sys/${k}`, 'utf8')).trim();
  view['eth0'] = await run('ip', ['-o', 'addr', 'show', 'dev', 'eth0']).then(
    (r) => r.stdout,
    () => 'no eth0',
  );
  const routes = (await run('ip', ['-o', 'route'])).stdout.split('\n');
  view['routes'] = routes.filter((r) => r && !/ dev mnc-/.test(r)).join('\n');
  return view;
}

describe('a real two-node cluster', { skip: missing, timeout: 900_000 }, () => {
  let cluster: Cluster;
  const deleted: DeletedSandbox[] = [];

  let hostBefore: Record<string, string>;

  before(async () => {
    hostBefore = await hostView();
    const t0 = Date.now();
    cluster = await startCluster();
    console.log(`# cluster up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  });
  after(() => cluster?.stop());

  it('3. installs as a user installs it: kubectl apply -f deploy/ (CRDs, RBAC, policy, thick DaemonSet) with the image built from the repo', async (t) => {
    await installThick(cluster);
    const ds = JSON.parse(
      await cluster.kubectl(['get', 'daemonset', 'multinet', '-n', MULTINET_NAMESPACE, '-o', 'json']),
    ) as {
      status: { numberReady: number; desiredNumberScheduled: number };
    };
    assert.equal(ds.status.desiredNumberScheduled, cluster.nodes.length);
    assert.equal(ds.status.numberReady, cluster.nodes.length);
    for (const node of cluster.nodes) {
      assert.ok(
        existsSync(join(node.hostPath('/opt/cni/bin'), 'multinet-shim')),
        `${node.name}: the shim is installed`,
      );
    }
    t.diagnostic(await cluster.kubectl(['get', 'pods', '-n', MULTINET_NAMESPACE, '-o', 'wide']));
  });

  it('1. the 2018 scenario verbatim: bothpod gets eth0 and net1, network-status lists both, delete leaves nothing', async (t) => {
    deleted.push(await run2018Scenario(t, cluster));
  });

  it('2. the v1 form (text and JSON annotations) on both nodes: pods reach each other over the secondary network and eth0', async (t) => {
    deleted.push(...(await runModernScenario(t, cluster)));
  });

  it('6. late NAD: NETWORK_NOT_FOUND, AddNetworkFailed and NetworksReady=False first, Running and Ready (readiness gate) once the NAD exists', async (t) => {
    await runLateNadScenario(t, cluster);
  });

  it('8. device plugin: the kubelet allocates two devices, each attachment gets its own (deviceID, device-info), DEL gives them back; no allocation fails clearly', async (t) => {
    await runDevicePluginScenario(t, cluster);
  });

  it("the host keeps its sysctls (the kubelet's three, ip_forward), eth0 and routes", async () => {
    assert.deepEqual(await hostView(), hostBefore);
  });

  it("7. sandbox GC: the kubelet's two extra DELs per sandbox succeed and leak nothing", async (t) => {
    await runSandboxGcScenario(t, cluster, deleted);
  });

  // 9 and 10 after 7: hot-plug rolls the DaemonSet, and 7 reads the DELs of earlier pods from
  // the multinet pods' logs, which a rollout replaces.
  it('9. hot-plug: kubectl annotate adds a macvlan to a running pod, a missing network fails alone, removing it detaches; eth0 serves throughout, nothing leaks', async (t) => {
    await runHotplugScenario(t, cluster);
  });

  it("10. DRA claims: the scheduler allocates a TypeScript DRA driver's devices to a pod's claim, each attachment gets one (deviceID), the claim's status.devices shows them, DEL gives them back", async (t) => {
    await runDraScenario(t, cluster);
  });

  it('4. upgrade lane: the DaemonSet rolls to a new image while pods come and go; none misses a network, nothing leaks', async (t) => {
    await runUpgradeScenario(t, cluster);
  });

  it('5. reboot lane: kubelet, containerd and multinet killed, /run cleared; every pod gets its networks back, no stale reservation or plan', async (t) => {
    await runRebootScenario(t, cluster);
  });

  // Last: it removes the thick install (no scenario after it may rely on the DaemonSet).
  it('3. thin on a host by following docs/thin-host.md: a pod on that node gets eth0 and net1, its delete leaves nothing', async (t) => {
    await runThinHostScenario(t, cluster);
  });
});
