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
  return overhead(r, id, n, 'add');
}

function overhead(r: BenchResults, id: ImplementationId, n: number, cmd: 'add' | 'del'): number {
  const base = r.sequential.runs.baseline?.[String(n)]?.[cmd] ?? [];
  const own = r.sequential.runs[id]?.[String(n)]?.[cmd] ?? [];
  return median(own) - median(base);
}

/** A goal on a ratio multinet / Multus at every network count of scenario 1. */
function ratioGoal(
  r: BenchResults,
  goal: string,
  ours: ImplementationId,
  theirs: ImplementationId,
  cmd: 'add' | 'del',
  limit: number,
): Goal {
  const rows = r.sequential.networkCounts.map((n) => {
    const [o, t] = [overhead(r, ours, n, cmd), overhead(r, theirs, n, cmd)];
    return { n, o, t, ratio: t > 0 ? o / t : Number.NaN };
  });
  const measured = rows.length > 0 && rows.every((x) => Number.isFinite(x.o) && Number.isFinite(x.t));
  // Judged as ours <= limit × theirs, which also holds when theirs is 0 or below (a ratio then
  // means nothing: shown as the two overheads).
  return {
    goal,
    verdict: !measured ? 'not measured' : rows.every((x) => x.o <= limit * x.t) ? 'met' : 'not met',
    figure: rows
      .map(
        (x) =>
          `n=${x.n}: ${Number.isFinite(x.ratio) ? x.ratio.toFixed(2) : Number.isFinite(x.o) && Number.isFinite(x.t) ? `${x.o.toFixed(1)} vs ${x.t.toFixed(1)} ms` : 'n/a'}`,
      )
      .join(', '),
  };
}

export function judgeGoals(r: BenchResults): Goal[] {
  const goals: Goal[] = [];
  const ms = (n: number) => n.toFixed(1);

  // Issue 15's goals first: the figures a user of a busy node feels.
  goals.push(
    ratioGoal(
      r,
      "Thick ADD overhead over the baseline / Multus thick's <= 0.5 at every network count",
      'multinet-thick',
      'multus-thick',
      'add',
      0.5,
    ),
  );
  // Multus's DEL overhead can be near 0 or below (its DEL is the delegates' DEL), where a ratio
  // says nothing: the goal is the difference, shown in ms.
  const dels = r.sequential.networkCounts.map((n) => ({
    n,
    ours: overhead(r, 'multinet-thick', n, 'del'),
    theirs: overhead(r, 'multus-thick', n, 'del'),
  }));
  const delMeasured = dels.length > 0 && dels.every((d) => Number.isFinite(d.ours - d.theirs));
  goals.push({
    goal: "Thick DEL overhead <= Multus thick's at every network count",
    verdict: !delMeasured ? 'not measured' : dels.every((d) => d.ours <= d.theirs) ? 'met' : 'not met',
    figure: dels.map((d) => `n=${d.n}: ${ms(d.ours)} vs ${ms(d.theirs)} ms`).join(', '),
  });
  goals.push(
    ratioGoal(
      r,
      "Thin ADD overhead over the baseline / Multus thin's <= 0.8 at every network count",
      'multinet-thin',
      'multus-thin',
      'add',
      0.8,
    ),
  );

  const burst = r.burst['multinet-thick'];
  const multusBurst = r.burst['multus-thick'];
  if (burst && multusBurst) {
    const peak = (burst.peakDaemonRssBytes ?? Number.NaN) / MiB;
    const ratio = burst.addCompletionMs / multusBurst.addCompletionMs;
    const ok = burst.errors.length === 0 && burst.daemonAliveAfter === true && peak <= 80 && ratio <= 0.8;
    goals.push({
      goal: `Burst of ${burst.pods} pods × ${burst.networksPerPod} networks: ADD completion / Multus thick's <= 0.8, 0 errors, daemon peak RSS <= 80 MiB`,
      verdict: ok ? 'met' : 'not met',
      figure: `${ratio.toFixed(2)} (${(burst.addCompletionMs / 1000).toFixed(2)} vs ${(multusBurst.addCompletionMs / 1000).toFixed(2)} s), ${burst.errors.length} errors, daemon ${burst.daemonAliveAfter ? 'alive' : 'gone'}, peak daemon RSS ${peak.toFixed(1)} MiB`,
    });
    const ours = burst.peakPluginRssBytes / MiB;
    const theirs = multusBurst.peakPluginRssBytes / MiB;
    goals.push({
      goal: "Shim processes' peak PSS during that burst <= Multus's",
      verdict: ours <= theirs ? 'met' : 'not met',
      figure: `${ours.toFixed(0)} vs ${theirs.toFixed(0)} MiB (delegates: ${(burst.peakDelegateRssBytes / MiB).toFixed(0)} vs ${(multusBurst.peakDelegateRssBytes / MiB).toFixed(0)} MiB)`,
    });
  } else
    goals.push({
      goal: 'Burst of 100 pods × 3 networks against Multus thick (completion, errors, RSS, shim PSS)',
      verdict: 'not measured',
      figure: '',
    });

  const mem = r.memory['multinet-thick'];
  const multusMem = r.memory['multus-thick'];
  if (mem && multusMem) {
    const [idle, loaded] = [mem.idleRssBytes / MiB, mem.loadedRssBytes / MiB];
    const [mIdle, mLoaded] = [multusMem.idleRssBytes / MiB, multusMem.loadedRssBytes / MiB];
    goals.push({
      goal: `Daemon RSS idle and with ${mem.loadedNads} NADs + ${mem.loadedPods} pods <= Multus thick's`,
      verdict: idle <= mIdle && loaded <= mLoaded ? 'met' : 'not met',
      figure: `idle ${idle.toFixed(1)} vs ${mIdle.toFixed(1)} MiB, loaded ${loaded.toFixed(1)} vs ${mLoaded.toFixed(1)} MiB`,
    });
  } else
    goals.push({ goal: "Daemon RSS idle and loaded <= Multus thick's", verdict: 'not measured', figure: '' });

  const shims = r.shim.candidates.filter((c) => c.available && c.addStub.length > 0);
  const go = shims.find((c) => c.id === 'multus-go');
  const best = shims
    .filter((c) => c.id !== 'multus-go')
    .sort((a, b) => median(a.addStub) - median(b.addStub))[0];
  const shimRatio = best && go ? median(best.addStub) / median(go.addStub) : Number.NaN;
  goals.push({
    goal: 'Shim ADD against a stub daemon / the Go shim <= 1.2 (fastest TypeScript build)',
    verdict: !Number.isFinite(shimRatio) ? 'not measured' : shimRatio <= 1.2 ? 'met' : 'not met',
    figure:
      best && go
        ? `${shimRatio.toFixed(2)}: ${best.label} ${ms(median(best.addStub))} ms vs Go ${ms(median(go.addStub))} ms`
        : '',
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

  if (mem) {
    const loaded = mem.loadedRssBytes / MiB;
    goals.push({
      goal: `Idle RSS < 64 MiB with ${mem.loadedNads} NADs (and ${mem.loadedPods} pods on the node)`,
      verdict: loaded < 64 ? 'met' : 'not met',
      figure: `${loaded.toFixed(1)} MiB (empty cluster: ${(mem.idleRssBytes / MiB).toFixed(1)} MiB)`,
    });
  } else goals.push({ goal: 'Idle RSS < 64 MiB with 1,000 NADs', verdict: 'not measured', figure: '' });

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
