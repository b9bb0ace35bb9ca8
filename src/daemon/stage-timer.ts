/**
 * Where a CNI request's time goes, measured by the daemon itself (bench/ reads it; operators see
 * it as a debug line and a histogram). One StageTimer per request, found by container ID (the
 * container locks let one request per container run at a time) or by pod UID by the shared,
 * timed ports (timed-ports.ts): nothing is passed through the engine.
 */
export const STAGES = [
  'queue', // waiting for a concurrency slot and the container's lock
  'parse', // request decoding and checks, before the engine
  'plan', // engine time in no other stage: pod and NAD lookups, planning, conversions
  'planRead',
  'planWrite', // plan put and delete (fsync'd)
  'delegates', // every delegate plugin process, spawn to exit
  'resultCache', // result cache reads, writes and deletes (ADD's writes overlap the next delegate)
  'status', // network-status PATCH
  'answer', // result conversion and the answer's JSON, after the engine
] as const;
export type Stage = (typeof STAGES)[number];

export class StageTimer {
  /** Milliseconds per stage. */
  readonly ms: Record<Stage, number> = {
    queue: 0,
    parse: 0,
    plan: 0,
    planRead: 0,
    planWrite: 0,
    delegates: 0,
    resultCache: 0,
    status: 0,
    answer: 0,
  };
  /** Each delegate process: plugin type, then its spawn-to-exit in ms. */
  readonly delegateMs: (string | number)[] = [];

  /** When the ports' stages ran ([start, end] in ms), so that overlapping ones count once in `plan`. */
  private readonly spans: [number, number][] = [];
  /** Port time given without a start: counted in full. */
  private unplaced = 0;

  /** `ms` of a port stage; `start` (performance.now()) places it, so overlaps count once. */
  add(stage: Stage, ms: number, start?: number): void {
    this.ms[stage] += ms;
    if (start === undefined) this.unplaced += ms;
    else this.spans.push([start, start + ms]);
  }

  delegate(type: string, ms: number, start?: number): void {
    this.add('delegates', ms, start);
    this.delegateMs.push(type, Math.round(ms * 100) / 100);
  }

  /**
   * Time the engine spent in none of the stages the ports measured. Those can overlap (ADD's
   * result cache writes run while the next delegate does; parallelAttach runs delegates at once):
   * the time covered by any of them counts once.
   */
  engineDone(engineMs: number): void {
    let covered = this.unplaced;
    let end = -Infinity;
    for (const [s, e] of this.spans.sort((a, b) => a[0] - b[0])) {
      if (e <= end) continue;
      covered += e - Math.max(s, end);
      end = e;
    }
    this.ms.plan = Math.max(0, engineMs - covered);
  }
}

/** The timers of the requests in flight. */
export class StageTimers {
  private readonly byContainer = new Map<string, StageTimer>();
  private readonly byPod = new Map<string, StageTimer>();

  begin(containerId: string, podUid: string | undefined): StageTimer {
    const timer = new StageTimer();
    this.byContainer.set(containerId, timer);
    if (podUid) this.byPod.set(podUid, timer);
    return timer;
  }

  end(containerId: string, podUid: string | undefined, timer: StageTimer): void {
    if (this.byContainer.get(containerId) === timer) this.byContainer.delete(containerId);
    if (podUid && this.byPod.get(podUid) === timer) this.byPod.delete(podUid);
  }

  forContainer(containerId: string | undefined): StageTimer | undefined {
    return containerId === undefined ? undefined : this.byContainer.get(containerId);
  }

  forPod(uid: string): StageTimer | undefined {
    return this.byPod.get(uid);
  }
}

/** Runs `fn`, adding its duration to `stage` of `timer` (when there is one). */
export async function timed<T>(
  timer: StageTimer | undefined,
  stage: Stage,
  fn: () => Promise<T>,
): Promise<T> {
  if (!timer) return fn();
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    timer.add(stage, performance.now() - t0, t0);
  }
}
