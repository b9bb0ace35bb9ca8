/**
 * The bundled daemon an image runs, against a real kube-apiserver, with 1,000 NADs cached and a
 * burst of 100 pods attached at once (the "runtime" retries on code 11 as the kubelet does):
 * every pod gets attached, only code 11 is ever refused, and every address comes back. Memory is
 * reported as diagnostics only; the goals (idle < 64 MiB, peak < 100 MiB) are judged in
 * bench/ (scenarios 2 and 4), never as assertions in a test.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  bridgeConf,
  buildDaemonBundle,
  buildShim,
  daemonDirs,
  scrape,
  shimCall,
  startDaemon,
  waitFor,
} from '../integration/daemon-harness.ts';
import { forwardApiIntoNetns } from '../support/api-forwarder.ts';
import { startControlPlane, type ControlPlane } from '../support/control-plane.ts';
import { allocations, NetnsTopology } from '../support/netns.ts';

const NODE = 'node-memory-e2e';
const MiB = 1024 * 1024;

function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/** Runs `n` jobs with at most `width` at once. */
async function pool<T>(n: number, width: number, job: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await job(i);
      }
    }),
  );
  return out;
}

describe('daemon under a burst, with 1,000 NADs cached', { timeout: 300_000 }, () => {
  let cp: ControlPlane;
  before(async () => {
    cp = await startControlPlane();
  });
  after(async () => {
    await cp?.stop();
  });

  it('attaches a burst of 100 pods (retrying code 11) and releases every address', async (t) => {
    buildShim();
    const topo = await NetnsTopology.create(t);
    t.after(await forwardApiIntoNetns(cp.server, topo.node, topo.tmpDir));
    const setup = await daemonDirs(topo);
    await writeFile(
      join(setup.confDir, '10-podnet.conflist'),
      JSON.stringify(bridgeConf(topo, { subnet: '10.71.0.0/16', bridge: 'mnm0' })),
    );
    await pool(1000, 16, (i) =>
      cp.client.create({
        apiVersion: 'k8s.cni.cncf.io/v1',
        kind: 'NetworkAttachmentDefinition',
        metadata: { namespace: 'default', name: `net-${i}` },
        spec: {
          config: JSON.stringify({
            cniVersion: '1.0.0',
            type: 'macvlan',
            master: 'ens1',
            mode: 'bridge',
            ipam: {
              type: 'host-local',
              ranges: [[{ subnet: `10.72.${i % 250}.0/24` }]],
              dataDir: topo.dataDir,
            },
          }),
        },
      }),
    );
    const pods = await pool(100, 16, (i) =>
      cp.client.create({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          namespace: 'default',
          name: `burst-${i}`,
          annotations: { 'k8s.v1.cni.cncf.io/networks': `net-${i}` },
        },
        spec: { nodeName: NODE, containers: [{ name: 'c', image: 'example.invalid/none' }] },
      }),
    );

    const daemon = await startDaemon(
      t,
      topo,
      setup,
      { kubeconfig: cp.multinetKubeconfig, nodeName: NODE, logLevel: 'info', maxConcurrentRequests: 32 },
      { command: buildDaemonBundle() },
    );
    const pid = daemon.proc.pid!;
    const port = await daemon.metricsPort();
    await waitFor(
      '1,000 NADs and 100 pods cached',
      () => {
        const m = scrape(topo, port);
        return (
          /multinet_cache_objects\{resource="network-attachment-definitions"\} 1000/.test(m) &&
          /multinet_cache_objects\{resource="pods"\} 100/.test(m)
        );
      },
      30_000,
    );
    await sleep(2_000);
    const idle = memory(pid);
    const m = scrape(topo, port);
    const metric = (name: string) =>
      Number(new RegExp(`^${name} ([0-9.e+]+)`, 'm').exec(m)?.[1] ?? NaN) / MiB;
    t.diagnostic(
      `idle RSS ${(idle.rss / MiB).toFixed(1)} MiB with 1,000 NADs and 100 pods cached (V8 heap used ${metric('nodejs_heap_size_used_bytes').toFixed(1)} of ${metric('nodejs_heap_size_total_bytes').toFixed(1)} MiB, external ${metric('nodejs_external_memory_bytes').toFixed(1)} MiB)`,
    );

    const netns = await Promise.all(pods.map(() => topo.addPod()));
    const shimConf = {
      cniVersion: '1.0.0',
      name: 'multinet-cni-network',
      plugins: [{ type: 'multinet-shim', socketPath: setup.socketPath }],
    };
    const args = (i: number) => ({
      IgnoreUnknown: '1',
      K8S_POD_NAMESPACE: 'default',
      K8S_POD_NAME: `burst-${i}`,
      K8S_POD_UID: pods[i]!.metadata!.uid!,
    });
    let retries = 0;
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, memory(pid).rss)), 20);
    const t0 = Date.now();
    try {
      await Promise.all(
        pods.map(async (_, i) => {
          for (;;) {
            const add = await shimCall(topo, shimConf, {
              command: 'ADD',
              containerId: `burst-${i}`,
              netns: netns[i]!.path,
              args: args(i),
            });
            if (add.exitCode === 0) return;
            assert.equal(add.json?.['code'], 11, add.stdout);
            retries++;
            await sleep(200 + Math.random() * 300);
          }
        }),
      );
    } finally {
      clearInterval(sampler);
    }
    const burstMs = Date.now() - t0;
    peak = Math.max(peak, memory(pid).peak);
    t.diagnostic(
      `burst of 100 ADDs (2 attachments each): ${burstMs} ms, ${retries} answers of code 11 retried, peak RSS ${(peak / MiB).toFixed(1)} MiB`,
    );

    await pool(100, 16, async (i) => {
      const del = await shimCall(topo, shimConf, {
        command: 'DEL',
        containerId: `burst-${i}`,
        netns: netns[i]!.path,
        args: args(i),
      });
      assert.equal(del.exitCode, 0, del.stdout);
    });
    assert.deepEqual(await allocations(topo.dataDir, 'podnet'), []);
    assert.equal(await daemon.stop(), 0);
  });
});
