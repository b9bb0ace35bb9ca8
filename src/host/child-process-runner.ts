import { spawn } from 'node:child_process';
import type { PluginExecOutcome, PluginExecRequest, PluginRunner } from '../cni/plugin-runner.ts';
import { supervisedArgv } from './delegate-lifetime.ts';

export interface ChildProcessRunnerOptions {
  /**
   * Command prefix, e.g. `['nsenter', '--net=/run/netns/node1', '--']`, so that tests run
   * delegates inside a test "node" namespace and their links, bridges and iptables rules land there.
   */
  wrapper?: string[];
  /** Per stream; beyond it output is dropped and a marker appended (a plugin gone wild must not exhaust memory). */
  maxOutputBytes?: number;
  /**
   * util-linux setpriv: each delegate then dies, with everything it started, when this process
   * dies (see delegate-lifetime.ts). Without it a delegate outlives a killed multinet.
   */
  setpriv?: string;
}

const DEFAULT_MAX_OUTPUT = 4 * 1024 * 1024;
/**
 * How long stdout/stderr may stay open after the plugin exited. Normally they close with it; a
 * helper the plugin left running (in its own session, out of reach of the group kill) may hold
 * them open for ever, and must not hold the pod's ADD with them.
 */
const STDIO_GRACE_MS = 1_000;

/**
 * Runs plugins as child processes (SPEC §2: env in, config on stdin, stdout/stderr captured
 * separately). Each plugin gets its own process group so that a timeout or an abort kills the
 * plugin together with the delegates it started (e.g. bridge → host-local), and so that whatever
 * it leaves in that group is killed when it exits. An abort settles only after the plugin exited.
 */
export class ChildProcessRunner implements PluginRunner {
  private readonly wrapper: readonly string[];
  private readonly maxOutputBytes: number;
  private readonly setpriv: string | undefined;

  constructor(options: ChildProcessRunnerOptions = {}) {
    this.wrapper = options.wrapper ?? [];
    this.maxOutputBytes = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
    this.setpriv = options.setpriv;
  }

  exec(req: PluginExecRequest): Promise<PluginExecOutcome> {
    return new Promise((resolve, reject) => {
      const { signal } = req;
      if (signal?.aborted) {
        reject(abortReason(signal));
        return;
      }
      const argv = [...this.wrapper, req.path];
      const [command = req.path, ...args] = this.setpriv
        ? supervisedArgv(this.setpriv, process.pid, argv)
        : argv;
      const child = spawn(command, args, { env: req.env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
      const stdout = new Capture(this.maxOutputBytes);
      const stderr = new Capture(this.maxOutputBytes);
      let settled = false;
      let timedOut = false;
      let aborted = false;
      // The group outlives its leader while any member lives, so its id cannot be reused by then.
      const killGroup = () => {
        if (child.pid === undefined) return;
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      };
      const timer = setTimeout(() => {
        timedOut = true;
        killGroup();
      }, req.timeoutMs);
      // Settles only once the plugin has exited: a caller that goes on to DEL after an abort
      // must not race a delegate that is still running.
      const onAbort = () => {
        aborted = true;
        killGroup();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const finish = (settle: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        settle();
      };
      child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      // A plugin may exit without reading stdin; the resulting EPIPE is not our failure.
      child.stdin.on('error', () => undefined);
      child.on('error', (err) => finish(() => reject(err)));
      const settleWith = (exitCode: number | null, exitSignal: NodeJS.Signals | null) =>
        finish(() =>
          aborted
            ? reject(abortReason(signal as AbortSignal))
            : resolve({
                exitCode,
                signal: exitSignal,
                stdout: stdout.text(),
                stderr: stderr.text(),
                timedOut,
              }),
        );
      child.on('close', settleWith);
      child.on('exit', (exitCode, exitSignal) => {
        // What the plugin left in its group (a helper, a stuck IPAM call) ends with it.
        killGroup();
        const grace = setTimeout(() => {
          child.stdout.destroy();
          child.stderr.destroy();
          settleWith(exitCode, exitSignal);
        }, STDIO_GRACE_MS);
        child.once('close', () => clearTimeout(grace));
      });
      child.stdin.end(req.stdin);
    });
  }
}

class Capture {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private dropped = 0;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    const room = this.limit - this.size;
    if (room <= 0) {
      this.dropped += chunk.length;
      return;
    }
    const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.chunks.push(kept);
    this.size += kept.length;
    this.dropped += chunk.length - kept.length;
  }

  text(): string {
    const body = Buffer.concat(this.chunks).toString('utf8');
    return this.dropped > 0 ? `${body}\n[output truncated: ${this.dropped} more bytes]` : body;
  }
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error
    ? signal.reason
    : new Error('plugin run aborted', { cause: signal.reason });
}
