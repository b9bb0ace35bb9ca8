/**
 * Serialises requests for the same container ID (an ADD and the DEL the runtime sends after a
 * timeout must not interleave), while different containers run in parallel. Waiters are served
 * in arrival order; an entry disappears when its last holder releases.
 */
export class ContainerLocks {
  private readonly tails = new Map<string, Promise<void>>();

  get size(): number {
    return this.tails.size;
  }

  async acquire(key: string): Promise<() => void> {
    const previous = this.tails.get(key);
    let release!: () => void;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = (previous ?? Promise.resolve()).then(() => mine);
    this.tails.set(key, tail);
    if (previous) await previous;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    };
  }
}
