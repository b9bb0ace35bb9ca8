/**
 * One AbortController per in-flight CNI request, and a way to abort them all (the shutdown
 * deadline passed). Each request's work listens on its own signal only: one signal shared by
 * every request collected one "abort" listener per queued request and per running delegate, past
 * Node's limit of 10 in any burst (MaxListenersExceededWarning), and kept them all alive.
 */
export class RequestAborts {
  private readonly live = new Set<AbortController>();
  private reason: unknown;
  private aborted = false;

  get size(): number {
    return this.live.size;
  }

  /** A signal for one request; call `end()` when the request is done. Aborted at once after abortAll. */
  begin(): { signal: AbortSignal; end(): void } {
    const ac = new AbortController();
    if (this.aborted) ac.abort(this.reason);
    else this.live.add(ac);
    return { signal: ac.signal, end: () => void this.live.delete(ac) };
  }

  /** Aborts every request in flight, and every later one. */
  abortAll(reason: unknown): void {
    this.aborted = true;
    this.reason = reason;
    for (const ac of this.live) ac.abort(reason);
    this.live.clear();
  }
}
