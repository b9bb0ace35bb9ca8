/**
 * Scenario 3: API requests per ADD and per DEL, counted by the API server's audit log (one
 * event per request, by user), for a pod with 3 networks. Cold: the first ADD/DEL after the
 * implementation started (a thick daemon has listed its caches, nothing more). Warm: the mean of
 * the next rounds. Watches are long-running and not per call; they are left out.
 */
import { invocation, nextContainerId, withRunning, type BenchContext } from '../bench-context.ts';
import type { AuditEvent } from '../../test/support/control-plane.ts';
import type { PodRef } from '../exec-cni.ts';
import type { Implementation, StartOptions } from '../implementations/implementation.ts';
import type { ApiCount, ApiRun } from '../results.ts';

const WRITE_VERBS = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);
const SETTLE_MS = 500;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function count(events: AuditEvent[], rounds = 1): ApiCount {
  const byVerb: Record<string, number> = {};
  let reads = 0;
  let writes = 0;
  for (const e of events) {
    const r = e.objectRef;
    const key = `${e.verb} ${r?.resource ?? e.requestURI}${r?.subresource ? `/${r.subresource}` : ''}`;
    byVerb[key] = (byVerb[key] ?? 0) + 1 / rounds;
    if (WRITE_VERBS.has(e.verb)) writes += 1 / rounds;
    else reads += 1 / rounds;
  }
  return { byVerb, total: events.length / rounds, reads, writes };
}

export async function runApiCost(
  ctx: BenchContext,
  opts: { warmRounds: number; networksPerPod: number },
): Promise<Record<string, ApiRun>> {
  const out: Record<string, ApiRun> = {};
  const { scene } = ctx;
  const ns = scene.pods[2]!;
  const networks = scene.networks(opts.networksPerPod);
  const runs: { impl: Implementation; variant?: string; start: Omit<StartOptions, 'logDir'> }[] =
    ctx.implementations.filter((i) => i.family !== 'baseline').map((impl) => ({ impl, start: {} }));
  // The goal says one write per ADD: with its default (events: all) multinet also writes an Event per attachment.
  const thick = ctx.implementations.find((i) => i.id === 'multinet-thick');
  if (thick) runs.push({ impl: thick, variant: 'events: warnings', start: { events: 'warnings' } });
  for (const { impl, variant, start } of runs) {
    // One pod per ADD, created before the start: a daemon's cache has them, as it would in a cluster.
    const pods = await scene.createPods(`api-${impl.id}`, networks, 1 + opts.warmRounds);
    const key = variant ? `${impl.id} (${variant})` : impl.id;
    out[key] = await withRunning(ctx, impl, start, async (running) => {
      const user = running.apiUser!;
      // A daemon lists its caches at start; let that finish before the window opens.
      if (impl.mode === 'thick') await sleep(2_000);
      const errors: string[] = [];
      const windowed = async (
        command: 'ADD' | 'DEL',
        pod: PodRef,
        containerId: string,
      ): Promise<AuditEvent[]> => {
        const t0 = Date.now();
        const r = await running.call(invocation(command, containerId, ns.path, pod, networks));
        const t1 = Date.now();
        if (!r.ok) errors.push(`${command}: ${r.error}`);
        // A daemon may write Events after it answered: requests up to SETTLE_MS later belong to
        // this call (nothing else runs meanwhile), and the audit log has them a moment after.
        await sleep(SETTLE_MS + 200);
        const events = await scene.cp.readAudit();
        return events.filter((e) => {
          if (e.user.username !== user || e.stage !== 'ResponseComplete' || e.verb === 'watch') return false;
          const at = Date.parse(e.requestReceivedTimestamp);
          return at >= t0 - 2 && at <= t1 + SETTLE_MS;
        });
      };
      const coldId = nextContainerId(`api-${impl.id}`);
      const coldAdd = await windowed('ADD', pods[0]!, coldId);
      const coldDel = await windowed('DEL', pods[0]!, coldId);
      const warmAdd: AuditEvent[] = [];
      const warmDel: AuditEvent[] = [];
      for (let i = 1; i <= opts.warmRounds; i++) {
        const id = nextContainerId(`api-${impl.id}`);
        warmAdd.push(...(await windowed('ADD', pods[i]!, id)));
        warmDel.push(...(await windowed('DEL', pods[i]!, id)));
      }
      const run: ApiRun = {
        implementation: impl.id,
        ...(variant ? { variant } : {}),
        networksPerPod: opts.networksPerPod,
        coldAdd: count(coldAdd),
        coldDel: count(coldDel),
        warmAdd: count(warmAdd, opts.warmRounds),
        warmDel: count(warmDel, opts.warmRounds),
        warmRounds: opts.warmRounds,
        errors,
      };
      ctx.log(
        `  ${key}: cold ADD ${run.coldAdd.reads} reads/${run.coldAdd.writes} writes, warm ADD ${run.warmAdd.reads.toFixed(1)}/${run.warmAdd.writes.toFixed(1)}, warm DEL ${run.warmDel.reads.toFixed(1)}/${run.warmDel.writes.toFixed(1)}` +
          (errors.length ? `, errors: ${errors[0]}` : '') +
          '\n',
      );
      return run;
    });
    await scene.deletePods(pods);
    await scene.resetPodNs(ns);
  }
  return out;
}
