import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { lstat, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ensurePrivateDir } from './private-dir.ts';

const SAFE_ID = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export interface ContainerLockOptions {
  /** util-linux flock(1). */
  flock?: string;
  /** util-linux setpriv: a waiting flock dies with us instead of waiting on as an orphan. */
  setpriv?: string | undefined;
  /** How long to wait for another call on the same container (then "try again later"). */
  waitMs?: number;
}

export interface HeldContainerLock {
  /** Ends the hold; with `remove`, the lock file goes too (removed while still held). */
  release(opts?: { remove?: boolean }): Promise<void>;
}

/** The wait ran out: another call for this container is still running. */
export class ContainerLockTimeout extends Error {
  /** What thin mode tests for (it imports no host code): a retry can help. */
  readonly code = 'CONTAINER_LOCK_TIMEOUT';
  constructor(containerId: string, waitMs: number) {
    super(`another multinet call for container ${containerId} still runs after ${waitMs} ms`);
    this.name = 'ContainerLockTimeout';
  }
}

/**
 * Serialises calls for one container across processes (thin mode: every CNI call is its own
 * process). The lock is flock(2) on `<cacheDir>/locks/<containerID>` (both directories pass
 * host/private-dir.ts first: nothing is created in one others could write to), held by an open file
 * description of *this* process: Node has no flock, so util-linux flock(1) is started with that
 * descriptor as its fd 3, locks it and exits; the lock stays with the description, which only we
 * still hold. The kernel drops it when we close it or die (SIGKILL included): a killed holder
 * never wedges the container, and there is no stale-lock guessing. Files are opened without
 * following symlinks and close-on-exec (delegates never inherit a lock). A file removed while we
 * waited (a DEL that finished) is detected by comparing inodes, and the lock is taken again.
 */
export class FileContainerLocks {
  private readonly dir: string;
  private readonly uid: number;

  constructor(
    private readonly cacheDir: string,
    private readonly opts: ContainerLockOptions & { uid?: number } = {},
  ) {
    this.dir = join(cacheDir, 'locks');
    this.uid = opts.uid ?? process.geteuid?.() ?? 0;
  }

  async acquire(containerId: string): Promise<HeldContainerLock> {
    if (!SAFE_ID.test(containerId) || containerId.length > 256)
      throw new Error(`invalid container ID "${containerId.slice(0, 80)}"`);
    // The same trust check as the plan and result caches, before anything is created in it.
    await ensurePrivateDir(this.cacheDir, this.uid, 'cache directory');
    await ensurePrivateDir(this.dir, this.uid, 'lock directory');
    const path = join(this.dir, containerId);
    const waitMs = this.opts.waitMs ?? 120_000;
    const deadline = Date.now() + waitMs;
    for (;;) {
      const file = await open(path, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
      try {
        const left = deadline - Date.now();
        if (left <= 0 || !(await this.lock(file, left))) throw new ContainerLockTimeout(containerId, waitMs);
        const [held, named] = [await file.stat(), await lstat(path).catch(() => undefined)];
        if (named && named.ino === held.ino && named.dev === held.dev) return heldLock(file, path);
      } catch (err) {
        await file.close();
        throw err;
      }
      await file.close(); // The file we locked was removed meanwhile: lock the one there now.
    }
  }

  /** flock(1) on our descriptor; false when the wait ran out. */
  private lock(file: FileHandle, waitMs: number): Promise<boolean> {
    const flock = [
      this.opts.flock ?? 'flock',
      '--exclusive',
      '--wait',
      String(Math.ceil(waitMs / 1000)),
      '3',
    ];
    const argv = this.opts.setpriv ? [this.opts.setpriv, '--pdeathsig', 'KILL', '--', ...flock] : flock;
    return new Promise((resolve, reject) => {
      const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe', file.fd] });
      let stderr = '';
      child.stderr?.on('data', (c: Buffer) => void (stderr += c.toString('utf8')));
      child.on('error', reject);
      child.on('close', (code) => {
        if (code === 0) resolve(true);
        else if (code === 1) resolve(false);
        else reject(new Error(`flock failed (exit ${code}): ${stderr.trim().slice(0, 200)}`));
      });
    });
  }
}

function heldLock(file: FileHandle, path: string): HeldContainerLock {
  let done = false;
  return {
    async release(opts = {}) {
      if (done) return;
      done = true;
      try {
        // Removed while still held, so nobody can lock this inode and believe it current.
        if (opts.remove) await rm(path, { force: true });
      } finally {
        await file.close();
      }
    },
  };
}
