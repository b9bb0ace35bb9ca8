/**
 * Scenario 4: the daemons' resident memory, idle (the bench's few objects) and with a node's
 * worth of objects in the cluster: N NADs and M pods on this node (3 networks each), read into
 * the daemon's caches at start. Each daemon is started fresh and left to settle before RSS is read.
 */
import { withRunning, type BenchContext } from '../bench-context.ts';
import type { ImplementationId } from '../implementations/implementation.ts';
import { rssBytes } from '../process-memory.ts';
import type { MemoryRun } from '../results.ts';
import { NODE_NAME, benchNetworkConfig } from '../scene.ts';

const MEM_NAMESPACE = 'bench-mem';

async function settledRss(pid: number, settleMs: number): Promise<number> {
  await new Promise((r) => setTimeout(r, settleMs));
  return rssBytes(pid) ?? Number.NaN;
}

/** Creates objects with a few requests in flight at once (the admin client keeps connections alive). */
async function createAll(items: (() => Promise<unknown>)[], concurrency = 8): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await items[next++]!();
    }),
  );
}

export async function runMemory(
  ctx: BenchContext,
  opts: { nads: number; pods: number; settleMs: number },
): Promise<Partial<Record<ImplementationId, MemoryRun>>> {
  const thick = ctx.implementations.filter((i) => i.mode === 'thick');
  const idle = new Map<ImplementationId, number>();
  for (const impl of thick) {
    const rss = await withRunning(ctx, impl, {}, (r) => settledRss(r.daemonPid!, opts.settleMs));
    idle.set(impl.id, rss);
    ctx.log(`  ${impl.id}: idle RSS ${(rss / 2 ** 20).toFixed(1)} MiB\n`);
  }

  const c = ctx.scene.cp.client;
  await c.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: MEM_NAMESPACE } });
  const nadName = (i: number) => `mem-net-${i}`;
  await createAll(
    Array.from(
      { length: opts.nads },
      (_, i) => () =>
        c.create({
          apiVersion: 'k8s.cni.cncf.io/v1',
          kind: 'NetworkAttachmentDefinition',
          metadata: { namespace: MEM_NAMESPACE, name: nadName(i) },
          spec: { config: JSON.stringify({ ...benchNetworkConfig((i % 8) + 1, ctx.scene.ipamDir) }) },
        }),
    ),
  );
  await createAll(
    Array.from(
      { length: opts.pods },
      (_, i) => () =>
        c.create({
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: {
            namespace: MEM_NAMESPACE,
            name: `mem-pod-${i}`,
            annotations: {
              'k8s.v1.cni.cncf.io/networks': [0, 1, 2].map((k) => nadName((i * 3 + k) % opts.nads)).join(','),
            },
          },
          spec: { nodeName: NODE_NAME, containers: [{ name: 'c', image: 'example.invalid/none' }] },
        }),
    ),
  );
  ctx.log(`  created ${opts.nads} NADs and ${opts.pods} pods on ${NODE_NAME}\n`);

  const out: Partial<Record<ImplementationId, MemoryRun>> = {};
  for (const impl of thick) {
    const loaded = await withRunning(ctx, impl, {}, (r) => settledRss(r.daemonPid!, opts.settleMs));
    out[impl.id] = {
      idleRssBytes: idle.get(impl.id)!,
      loadedRssBytes: loaded,
      loadedNads: opts.nads,
      loadedPods: opts.pods,
      settleMs: opts.settleMs,
    };
    ctx.log(
      `  ${impl.id}: RSS with ${opts.nads} NADs + ${opts.pods} pods ${(loaded / 2 ** 20).toFixed(1)} MiB\n`,
    );
  }
  return out;
}
