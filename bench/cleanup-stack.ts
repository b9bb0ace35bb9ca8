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

  /** Undoes everything (each step once, errors reported, never thrown). */
  run(log: (s: string) => void = (s) => process.stderr.write(s)): Promise<void> {
    this.running ??= (async () => {
      while (this.undo.length > 0) {
        const step = this.undo.pop()!;
        try {
          await step.fn();
        } catch (err) {
          log(`bench cleanup: ${step.name}: ${err instanceof Error ? err.message : String(err)}\n`);
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
