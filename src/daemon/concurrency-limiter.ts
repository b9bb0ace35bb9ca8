export interface PerKeyLimits {
  /** Slots one key (a pod namespace) may hold at once; default: all of them. */
  maxActive?: number;
  /** Places in the queue one key may hold; default: all of them. */
  maxQueued?: number;
}

interface Waiter {
  key: string;
  grant(release: () => void): void;
}

/**
 * Caps the CNI requests the daemon works on at once (`max`), so a burst after a node reboot
 * cannot grow the daemon and the delegate processes in its cgroup without bound (Multus's thick
 * daemon is OOM-killed that way after a node reboot). Up to `maxQueued` more requests may wait,
 * each at most `queueTimeoutMs`, for a slot: a burst of pods then completes without the runtime
 * having to retry. A request that finds the
 * queue full, or waits past the deadline, gets `undefined` and its caller answers "try again
 * later" (CNI code 11). Both bounds together keep memory bounded.
 *
 * Fairness (issue 10 #3): requests carry a key, their pod's namespace. One key holds at most
 * `perKey.maxActive` slots and `perKey.maxQueued` queue places, so a namespace whose pods are
 * slow (or hostile) cannot take the daemon from the others; a freed slot goes to the queues in
 * turn (round robin over keys, first come first served within a key).
 */
export class ConcurrencyLimiter {
  private active = 0;
  private idleWaiters: (() => void)[] = [];
  private readonly activeByKey = new Map<string, number>();
  private readonly queues = new Map<string, Waiter[]>();
  private queuedCount = 0;
  /** Keys with waiters, in the order they get their turn. */
  private turns: string[] = [];
  readonly maxActivePerKey: number;
  readonly maxQueuedPerKey: number;

  constructor(
    readonly max: number,
    readonly maxQueued = 0,
    readonly queueTimeoutMs = 0,
    perKey: PerKeyLimits = {},
  ) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`max must be a positive integer, got ${max}`);
    if (!Number.isInteger(maxQueued) || maxQueued < 0)
      throw new RangeError(`maxQueued must be a non-negative integer, got ${maxQueued}`);
    this.maxActivePerKey = Math.min(max, perKey.maxActive ?? max);
    this.maxQueuedPerKey = Math.min(maxQueued, perKey.maxQueued ?? maxQueued);
    if (!Number.isInteger(this.maxActivePerKey) || this.maxActivePerKey < 1)
      throw new RangeError(`perKey.maxActive must be a positive integer, got ${perKey.maxActive}`);
  }

  get inFlight(): number {
    return this.active;
  }

  get queued(): number {
    return this.queuedCount;
  }

  /** Requests of `key` in flight and waiting. */
  held(key: string): { active: number; queued: number } {
    return { active: this.activeByKey.get(key) ?? 0, queued: this.queues.get(key)?.length ?? 0 };
  }

  /** True when `key` holds all it may (its slots and its queue places): its next request is refused. */
  keyFull(key: string): boolean {
    const h = this.held(key);
    return h.active >= this.maxActivePerKey && h.queued >= this.maxQueuedPerKey;
  }

  private take(key: string): () => void {
    this.active++;
    this.activeByKey.set(key, (this.activeByKey.get(key) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
      const n = (this.activeByKey.get(key) ?? 1) - 1;
      if (n === 0) this.activeByKey.delete(key);
      else this.activeByKey.set(key, n);
      this.dispatch();
      if (this.active === 0) for (const w of this.idleWaiters.splice(0)) w();
    };
  }

  /** Hands free slots to waiters, one key after the other. */
  private dispatch(): void {
    let passes = 0;
    while (this.active < this.max && this.turns.length > 0 && passes < this.turns.length) {
      const key = this.turns.shift()!;
      const queue = this.queues.get(key)!;
      if ((this.activeByKey.get(key) ?? 0) >= this.maxActivePerKey) {
        this.turns.push(key);
        passes++;
        continue;
      }
      passes = 0;
      const waiter = queue.shift()!;
      this.queuedCount--;
      if (queue.length > 0) this.turns.push(key);
      else this.queues.delete(key);
      waiter.grant(this.take(key));
    }
  }

  /** A release function, or undefined when no slot is free for `key`. Releasing twice is harmless. */
  tryAcquire(key = ''): (() => void) | undefined {
    if (this.active >= this.max || (this.activeByKey.get(key) ?? 0) >= this.maxActivePerKey) return undefined;
    // Within a key, first come first served: do not overtake its waiters.
    if (this.queues.has(key)) return undefined;
    return this.take(key);
  }

  /** Like tryAcquire, but waits in the bounded queue for a slot, up to queueTimeoutMs. */
  acquire(key = '', signal?: AbortSignal): Promise<(() => void) | undefined> {
    const now = this.tryAcquire(key);
    if (now) return Promise.resolve(now);
    const mine = this.queues.get(key)?.length ?? 0;
    if (
      this.queuedCount >= this.maxQueued ||
      mine >= this.maxQueuedPerKey ||
      this.queueTimeoutMs <= 0 ||
      signal?.aborted
    )
      return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const entry: Waiter = {
        key,
        grant: (release) => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', giveUp);
          resolve(release);
        },
      };
      const giveUp = () => {
        const queue = this.queues.get(key);
        const i = queue?.indexOf(entry) ?? -1;
        if (queue && i >= 0) {
          queue.splice(i, 1);
          this.queuedCount--;
          if (queue.length === 0) {
            this.queues.delete(key);
            this.turns = this.turns.filter((k) => k !== key);
          }
        }
        clearTimeout(timer);
        resolve(undefined);
      };
      const timer = setTimeout(giveUp, this.queueTimeoutMs);
      signal?.addEventListener('abort', giveUp, { once: true });
      const queue = this.queues.get(key);
      if (queue) queue.push(entry);
      else {
        this.queues.set(key, [entry]);
        this.turns.push(key);
      }
      this.queuedCount++;
    });
  }

  /** Resolves when nothing is in flight. */
  whenIdle(): Promise<void> {
    if (this.active === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}
