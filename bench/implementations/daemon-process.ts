/**
 * A daemon started for the bench (multinet's or Multus's): its own process group, a log file,
 * killed on stop() and, as a last resort, when the bench process exits.
 */
import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';

export interface DaemonProcess {
  pid: number;
  exited: boolean;
  exitCode: number | null;
  logFile: string;
  stop(): Promise<void>;
}

export function startDaemonProcess(
  command: string[],
  env: Record<string, string>,
  logFile: string,
): DaemonProcess {
  const fd = openSync(logFile, 'a');
  const [cmd, ...args] = command;
  const child = spawn(cmd!, args, { env, stdio: ['ignore', fd, fd], detached: true });
  closeSync(fd);
  const proc: DaemonProcess = {
    pid: child.pid!,
    exited: false,
    exitCode: null,
    logFile,
    stop: async () => {
      process.off('exit', killNow);
      if (proc.exited) return;
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      try {
        process.kill(-proc.pid, 'SIGTERM');
      } catch {
        return;
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-proc.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }, 5_000);
      await gone;
      clearTimeout(timer);
    },
  };
  const killNow = () => {
    try {
      process.kill(-proc.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  process.once('exit', killNow);
  child.once('exit', (code) => {
    proc.exited = true;
    proc.exitCode = code;
  });
  return proc;
}

/** Polls `ready` every 100 ms until it resolves true; fails early when the daemon exits. */
export async function waitUntil(
  what: string,
  proc: DaemonProcess,
  ready: () => Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    if (proc.exited) throw new Error(`${what}: daemon exited (code ${proc.exitCode}); see ${proc.logFile}`);
    try {
      if (await ready()) return;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline)
      throw new Error(`${what}: not ready in ${timeoutMs} ms (${last}); see ${proc.logFile}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
