// Child processes of the control-plane harness: free ports, spawning in own process groups, and
// making sure that no etcd or kube-apiserver outlives the test that started it (exit and signal
// hooks in this process, plus a watchdog that also covers SIGKILL of this process).
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, rmSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** A port on 127.0.0.1 that was free a moment ago (the kernel picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

export interface Spawned {
  name: string;
  pid: number;
  logFile: string;
  child: ChildProcess;
  /** Resolves with the exit code (or signal) once the process is gone. */
  exited: Promise<string>;
}

/** Starts `bin` in its own process group (so that stop can kill it with any children), output to a log file. */
export function spawnLogged(name: string, bin: string, args: string[], logFile: string): Spawned {
  const fd = openSync(logFile, 'a');
  const child = spawn(bin, args, { detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`${name}: could not start ${bin}`);
  const exited = new Promise<string>((resolve) => {
    child.on('exit', (code, signal) => resolve(signal ?? String(code)));
    child.on('error', (err) => resolve(`error: ${err.message}`));
  });
  child.unref();
  return { name, pid: child.pid, logFile, child, exited };
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** SIGTERM the process group, SIGKILL it after `graceMs`; resolves once the leader is gone. */
export async function stopGroup(pid: number, graceMs = 5_000): Promise<void> {
  killGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(50);
  killGroup(pid, 'SIGKILL');
  // A SIGKILLed child of ours stays a zombie (alive to kill -0) until reaped: give node a moment.
  const reapDeadline = Date.now() + 2_000;
  while (isAlive(pid) && !isZombie(pid) && Date.now() < reapDeadline) await sleep(20);
}

function isZombie(pid: number): boolean {
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/**
 * Kills the process groups and removes `dir` when the process `ownerPid` is gone, however it
 * ended (even SIGKILL, which no hook in this process sees). A detached shell polling once a second.
 */
export function startWatchdog(ownerPid: number, groups: number[], dir: string): number {
  const kills = groups.map((p) => `-${p}`).join(' ');
  const script = [
    `while kill -0 ${ownerPid} 2>/dev/null; do sleep 1; done`,
    `kill -TERM ${kills} 2>/dev/null; sleep 3; kill -KILL ${kills} 2>/dev/null`,
    `rm -rf '${dir.replace(/'/g, `'\\''`)}'`,
  ].join('; ');
  const child = spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' });
  child.unref();
  return child.pid ?? 0;
}

interface Registered {
  groups: number[];
  dir: string;
}
const registered = new Set<Registered>();
let hooksInstalled = false;

function cleanupAllSync(): void {
  for (const r of registered) {
    for (const pid of r.groups) killGroup(pid, 'SIGKILL');
    rmSync(r.dir, { recursive: true, force: true });
  }
  registered.clear();
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', cleanupAllSync);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      cleanupAllSync();
      // Die of the same signal, as if we had never caught it.
      process.kill(process.pid, signal);
    });
  }
}

/** Registers process groups and a directory to kill/remove if this process exits first. */
export function registerCleanup(groups: number[], dir: string): () => void {
  installHooks();
  const entry = { groups, dir };
  registered.add(entry);
  return () => registered.delete(entry);
}
