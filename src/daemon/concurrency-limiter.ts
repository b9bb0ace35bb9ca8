/**
 * Caps the CNI requests the daemon works on at once. There is no queue on purpose: when full,
 * the caller answers "try again later" (CNI code 11) at once, so a burst after a node reboot
 * cannot grow the daemon (and the delegate processes in its cgroup) without bound (multus.md §10 #1).
 */
export class ConcurrencyLimiter {
  private active = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`max must be a positive integer, got ${max}`);
  }

  get inFlight(): number {
    return this.active;
  }

  /** A release function, or undefined when saturated. Releasing twice is harmless. */
  tryAcquire(): (() => void) | undefined {
    if (this.active >= this.max) return undefined;
    this.active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
      if (this.active === 0) for (const w of this.idleWaiters.splice(0)) w();
    };
  }

  /** Resolves when nothing is in flight. */
  whenIdle(): Promise<void> {
    if (this.active === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}
