/** The issue's goals, each judged from the results with the figure that decides it. */
import type { ImplementationId } from '../implementations/implementation.ts';
import type { ApiCount, BenchResults } from '../results.ts';
import { median } from '../stats.ts';

export interface Goal {
  goal: string;
  verdict: 'met' | 'not met' | 'not measured' | 'measured';
  figure: string;
}

const MiB = 2 ** 20;
const fmt = (n: number): string => String(+n.toFixed(1));

export function addOverhead(r: BenchResults, id: ImplementationId, n: number): number {
  const base = r.sequential.runs.baseline?.[String(n)]?.add ?? [];
  const own = r.sequential.runs[id]?.[String(n)]?.add ?? [];
  return median(own) - median(base);
}

export function judgeGoals(r: BenchResults): Goal[] {
  const goals: Goal[] = [];
  const counts = r.sequential.networkCounts;

  const ratios = counts.map((n) => ({
    n,
    ratio: addOverhead(r, 'multinet-thick', n) / addOverhead(r, 'multus-thick', n),
  }));
  const measured = ratios.every((x) => Number.isFinite(x.ratio));
  goals.push({
    goal: "Thick ADD overhead over the baseline <= Multus thick's at every network count (ratio <= 1.0)",
    verdict: !measured ? 'not measured' : ratios.every((x) => x.ratio <= 1) ? 'met' : 'not met',
    figure: ratios
      .map((x) => `n=${x.n}: ${Number.isFinite(x.ratio) ? x.ratio.toFixed(2) : 'n/a'}`)
      .join(', '),
  });

  const api = r.api['multinet-thick'];
  const quiet = r.api['multinet-thick (events: warnings)'];
  const writesOf = (c: ApiCount, match: (k: string) => boolean) =>
    Object.entries(c.byVerb)
      .filter(([k]) => match(k) && !k.startsWith('get') && !k.startsWith('list'))
      .reduce((n, [, v]) => n + v, 0);
  if (api) {
    goals.push({
      goal: 'Zero API reads per ADD in steady state (multinet thick, warm)',
      verdict: api.warmAdd.reads === 0 ? 'met' : 'not met',
      figure: `${fmt(api.warmAdd.reads)} reads per warm ADD (cold: ${fmt(api.coldAdd.reads)})`,
    });
    for (const [run, setting] of [
      [api, 'default events: all'],
      [quiet, 'events: warnings'],
    ] as const) {
      if (!run) continue;
      const status = writesOf(run.warmAdd, (k) => k.endsWith('pods/status'));
      const events = writesOf(run.warmAdd, (k) => k.includes('events'));
      goals.push({
        goal: `One write (the status) per ADD (multinet thick, warm, ${setting})`,
        verdict: status === 1 && run.warmAdd.writes === 1 ? 'met' : 'not met',
        figure: `${fmt(run.warmAdd.writes)} writes per ADD: ${fmt(status)} status + ${fmt(events)} Events`,
      });
    }
  } else {
    goals.push({
      goal: 'Zero API reads per ADD in steady state; one write per ADD',
      verdict: 'not measured',
      figure: '',
    });
  }

  const burst = r.burst['multinet-thick'];
  if (burst) {
    const peak = (burst.peakDaemonRssBytes ?? Number.NaN) / MiB;
    const ok = burst.errors.length === 0 && burst.daemonAliveAfter === true && peak < 100;
    goals.push({
      goal: `Burst of ${burst.pods} pods without error or OOM, daemon RSS < 100 MiB`,
      verdict: ok ? 'met' : 'not met',
      figure: `${burst.errors.length} errors, daemon ${burst.daemonAliveAfter ? 'alive' : 'gone'}, peak daemon RSS ${peak.toFixed(1)} MiB (delegates ${(burst.peakDelegateRssBytes / MiB).toFixed(0)} MiB)`,
    });
  } else
    goals.push({
      goal: 'Burst of 100 pods without error or OOM, daemon RSS < 100 MiB',
      verdict: 'not measured',
      figure: '',
    });

  const mem = r.memory['multinet-thick'];
  if (mem) {
    const loaded = mem.loadedRssBytes / MiB;
    goals.push({
      goal: `Idle RSS < 64 MiB with ${mem.loadedNads} NADs (and ${mem.loadedPods} pods on the node)`,
      verdict: loaded < 64 ? 'met' : 'not met',
      figure: `${loaded.toFixed(1)} MiB (empty cluster: ${(mem.idleRssBytes / MiB).toFixed(1)} MiB)`,
    });
  } else goals.push({ goal: 'Idle RSS < 64 MiB with 1,000 NADs', verdict: 'not measured', figure: '' });

  const shims = r.shim.candidates.filter((c) => c.available && c.addStub.length > 0);
  const go = shims.find((c) => c.id === 'multus-go');
  const ours = shims
    .filter((c) => c.id !== 'multus-go')
    .sort((a, b) => median(a.addStub) - median(b.addStub));
  const best = ours[0];
  goals.push({
    goal: 'Find the fastest way to ship the TypeScript shim; each one beside the Go shim',
    verdict: best ? 'measured' : 'not measured',
    figure: best
      ? `fastest: ${best.label}, ${median(best.addStub).toFixed(1)} ms per ADD (stub daemon)` +
        (go
          ? ` vs Go ${median(go.addStub).toFixed(1)} ms (x${(median(best.addStub) / median(go.addStub)).toFixed(1)})`
          : '')
      : '',
  });

  const par = r.parallel.runs;
  const gains = r.parallel.networkCounts.map((n) => {
    const serial = median(r.sequential.runs['multinet-thick']?.[String(n)]?.add ?? []);
    const parallel = median(par['multinet-thick']?.[String(n)]?.add ?? []);
    return { n, gain: 1 - parallel / serial };
  });
  goals.push({
    goal: 'Optional parallelAttach (off by default): gain at 3 and 8 networks (thick ADD median)',
    verdict: gains.some((g) => Number.isFinite(g.gain)) ? 'measured' : 'not measured',
    figure: gains
      .map((g) => `n=${g.n}: ${Number.isFinite(g.gain) ? `${(g.gain * 100).toFixed(0)}% faster` : 'n/a'}`)
      .join(', '),
  });
  return goals;
}
