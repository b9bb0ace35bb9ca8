/**
 * Caps the CNI requests the daemon works on at once (`max`), so a burst after a node reboot
 * cannot grow the daemon and the delegate processes in its cgroup without bound (multus.md §10
 * #1). Up to `maxQueued` more requests may wait, each at most `queueTimeoutMs`, for a slot:
 * a burst of pods then completes without the runtime having to retry. A request that finds the
 * queue full, or waits past the deadline, gets `undefined` and its caller answers "try again
 * later" (CNI code 11). Both bounds together keep memory bounded.
 */
export class ConcurrencyLimiter {
  private active = 0;
  private idleWaiters: (() => void)[] = [];
  private readonly queue: { grant: (release: () => void) => void }[] = [];

  constructor(
    readonly max: number,
    readonly maxQueued = 0,
    readonly queueTimeoutMs = 0,
  ) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`max must be a positive integer, got ${max}`);
    if (!Number.isInteger(maxQueued) || maxQueued < 0)
      throw new RangeError(`maxQueued must be a non-negative integer, got ${maxQueued}`);
  }

  get inFlight(): number {
    return this.active;
  }

  get queued(): number {
    return this.queue.length;
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.queue.shift();
      // Hand the slot straight to the oldest waiter: `active` does not change.
      if (next) return next.grant(this.releaser());
      this.active--;
      if (this.active === 0) for (const w of this.idleWaiters.splice(0)) w();
    };
  }

  /** A release function, or undefined when saturated. Releasing twice is harmless. */
  tryAcquire(): (() => void) | undefined {
    if (this.active >= this.max) return undefined;
    this.active++;
    return this.releaser();
  }

  /** Like tryAcquire, but waits in the bounded queue for a slot, up to queueTimeoutMs. */
  acquire(signal?: AbortSignal): Promise<(() => void) | undefined> {
    const now = this.tryAcquire();
    if (now || this.queue.length >= this.maxQueued || this.queueTimeoutMs <= 0 || signal?.aborted)
      return Promise.resolve(now);
    return new Promise((resolve) => {
      const entry = {
        grant: (release: () => void) => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', giveUp);
          resolve(release);
        },
      };
      const giveUp = () => {
        const i = this.queue.indexOf(entry);
        if (i >= 0) this.queue.splice(i, 1);
        clearTimeout(timer);
        resolve(undefined);
      };
      const timer = setTimeout(giveUp, this.queueTimeoutMs);
      signal?.addEventListener('abort', giveUp, { once: true });
      this.queue.push(entry);
    });
  }

  /** Resolves when nothing is in flight. */
  whenIdle(): Promise<void> {
    if (this.active === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}
