/**
 * Test 7: the kubelet's sandbox garbage collection. After a pod's own DEL (StopPodSandbox, plan
 * present) the kubelet's container GC (a fixed one-minute period: ContainerGCPeriod in
 * pkg/kubelet, not configurable) makes containerd call StopPodSandbox and RemovePodSandbox again:
 * two more CNI DELs per sandbox for a pod that no longer exists. Waited for by condition (the
 * sandbox leaves containerd), then: every DEL succeeded, nothing leaks. Their latency is written
 * for bench/ (no assertion on it).
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { Cluster } from '../support/cluster.ts';
import { REPO_ROOT } from '../support/control-plane.ts';
import { cniLog, nodeLeftovers, waitUntil } from './cluster-checks.ts';
import type { DeletedSandbox } from './scenario-2018.ts';

/** Where the GC DELs' latencies go (bench/ reads them; git-ignored). */
export const GC_LATENCY_FILE = join(REPO_ROOT, '.tmp/cluster-gc-dels.json');

export async function runSandboxGcScenario(
  t: TestContext,
  cluster: Cluster,
  deleted: DeletedSandbox[],
): Promise<void> {
  assert.ok(deleted.length > 0, 'earlier scenarios deleted pods');
  for (const d of deleted) {
    const node = cluster.node(d.node);
    // One GC period plus slack; a DEL that waits for a pod lookup makes a pass longer.
    await waitUntil(
      `sandbox ${d.sandboxId.slice(0, 12)} of ${d.pod} removed by the kubelet's GC`,
      async () => !(await node.ctr('containers', 'ls', '-q')).split('\n').includes(d.sandboxId),
      180_000,
    );
  }
  const record: { pod: string; node: string; dels: { exitCode: number; ms: number }[] }[] = [];
  for (const d of deleted) {
    const dels = (await cniLog(cluster, d.node)).filter(
      (l) => l.command === 'DEL' && l.containerId === d.sandboxId,
    );
    t.diagnostic(
      `${d.pod} (${d.sandboxId.slice(0, 12)}): DELs ${dels.map((l) => `${l.exitCode}/${l.ms} ms`).join(', ')}`,
    );
    assert.ok(dels.length >= 3, `${d.pod}: the pod's DEL and the GC's two (saw ${dels.length})`);
    assert.deepEqual(
      dels.map((l) => l.exitCode),
      dels.map(() => 0),
      `${d.pod}: every DEL succeeded`,
    );
    record.push({ pod: d.pod, node: d.node, dels: dels.map((l) => ({ exitCode: l.exitCode, ms: l.ms })) });
    assert.deepEqual(await nodeLeftovers(cluster.node(d.node), d.sandboxId), [], `nothing left of ${d.pod}`);
  }
  for (const node of cluster.nodes)
    assert.deepEqual(await nodeLeftovers(node), [], `${node.name} holds nothing of any pod`);
  await mkdir(join(REPO_ROOT, '.tmp'), { recursive: true });
  await writeFile(GC_LATENCY_FILE, JSON.stringify({ at: new Date().toISOString(), record }, null, 2));
}
