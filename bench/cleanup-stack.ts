/**
 * Everything a bench run creates (control plane, namespaces, daemons, temp dirs) registers its
 * undo here; `run()` undoes in reverse order, on success, on failure and on Ctrl-C / SIGTERM.
 * A second signal leaves at once (the control plane's watchdog and the netns exit hook still
 * clean up behind us).
 */
export class CleanupStack {
  private readonly undo: { name: string; fn: () => unknown }[] = [];
  private running: Promise<void> | undefined;
  private signals = 0;

  push(name: string, fn: () => unknown): void {
    this.undo.push({ name, fn });
  }

  /**
   * Undoes everything (each step once, errors reported, never thrown). A step that has not
   * settled after `stepTimeoutMs` is reported by name and left behind: a promise that never
   * settles (a wait on a process already gone) would otherwise let Node exit with code 0 in the
   * middle of the cleanup, before the caller writes its results. The timer keeps the loop alive.
   */
  run(log: (s: string) => void = (s) => process.stderr.write(s), stepTimeoutMs = 60_000): Promise<void> {
    this.running ??= (async () => {
      while (this.undo.length > 0) {
        const step = this.undo.pop()!;
        let timer: NodeJS.Timeout | undefined;
        try {
          const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), stepTimeoutMs)));
          const outcome = await Promise.race([Promise.resolve().then(step.fn), late]);
          if (outcome === 'late')
            log(`bench cleanup: ${step.name}: not done after ${stepTimeoutMs / 1000} s; going on\n`);
        } catch (err) {
          log(`bench cleanup: ${step.name}: ${err instanceof Error ? err.message : String(err)}\n`);
        } finally {
          clearTimeout(timer);
        }
      }
    })();
    return this.running;
  }

  /** SIGINT/SIGTERM: clean up, then exit 130/143. */
  installSignalHandlers(): () => void {
    const onSignal = (sig: NodeJS.Signals) => {
      this.signals++;
      if (this.signals > 1) process.exit(1);
      process.stderr.write(`\nbench: ${sig}: cleaning up...\n`);
      void this.run().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    return () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    };
  }
}
