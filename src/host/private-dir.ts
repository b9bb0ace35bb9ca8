import { chmod, lstat, realpath, stat } from 'node:fs/promises';
import { sep } from 'node:path';
import { ensureDir } from './ensure-dir.ts';

const STICKY = 0o1000;

/** A directory someone besides root could write to: multinet refuses to use it (never retryable). */
export class UntrustedDirectoryError extends Error {
  readonly code = 'UNTRUSTED_DIRECTORY';
  constructor(message: string) {
    super(message);
    this.name = 'UntrustedDirectoryError';
  }
}

/**
 * Makes `dir` a directory only root (`uid`) controls, or refuses: created 0700 if missing; then
 * every component of its real path must be a directory owned by root or `uid` and writable by
 * nobody else. An ancestor writable by others is accepted only with the sticky bit and a root
 * owner (like /tmp: others cannot rename or remove what root put there); `dir` itself never. Its
 * group and other bits are then cleared. Anyone who could write to one of these directories could
 * swap the files multinet trusts (a socket, a cached plan that the next DEL executes as root).
 */
export async function ensurePrivateDir(dir: string, uid: number, what: string): Promise<void> {
  if (await stillVerified(dir, uid)) return;
  await ensureDir(dir, 0o700);
  await checkPrivateDir(dir, uid, what);
}

/**
 * How long a directory that passed the whole walk is trusted on one stat of it. The daemon's
 * stores check their directories on every read and write (about fourteen walks of five to six
 * system calls for an ADD of three networks, queued on libuv's four threads behind the fsyncs
 * of a burst); the stat still catches the directory itself replaced, re-permissioned or
 * re-owned at once, and an ancestor changed is caught when this runs out.
 */
export const VERIFIED_DIR_TTL_MS = 2_000;

const verified = new Map<string, { until: number; dev: number; ino: number; mode: number; uid: number }>();

async function stillVerified(dir: string, uid: number): Promise<boolean> {
  const v = verified.get(`${uid}:${dir}`);
  if (!v) return false;
  if (Date.now() >= v.until) {
    verified.delete(`${uid}:${dir}`);
    return false;
  }
  const st = await stat(dir).catch(() => undefined);
  return st !== undefined && st.dev === v.dev && st.ino === v.ino && st.mode === v.mode && st.uid === v.uid;
}

async function remember(dir: string, uid: number): Promise<void> {
  const st = await stat(dir).catch(() => undefined);
  if (st)
    verified.set(`${uid}:${dir}`, {
      until: Date.now() + VERIFIED_DIR_TTL_MS,
      dev: st.dev,
      ino: st.ino,
      mode: st.mode,
      uid: st.uid,
    });
}

/** ensurePrivateDir without creating: false when `dir` does not exist (readers find nothing there). */
export async function checkPrivateDir(dir: string, uid: number, what: string): Promise<boolean> {
  if (await stillVerified(dir, uid)) return true;
  let real: string;
  try {
    real = await realpath(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  const parts = real.split(sep).filter((p) => p !== '');
  const trusted = new Set([0, uid]);
  for (let i = 0; i <= parts.length; i++) {
    const path = sep + parts.slice(0, i).join(sep);
    const isTarget = i === parts.length;
    const st = await lstat(path);
    const shown = path === real ? `${what} ${dir}` : `${path} (a parent of the ${what} ${dir})`;
    if (!st.isDirectory())
      throw new UntrustedDirectoryError(`${shown} is not a directory: refusing to use it`);
    if (!trusted.has(st.uid))
      throw new UntrustedDirectoryError(`${shown} is owned by uid ${st.uid}, not ${uid}: refusing to use it`);
    const loose = (st.mode & 0o022) !== 0;
    const stickyRoot = (st.mode & STICKY) !== 0 && st.uid === 0;
    if (loose && (isTarget || !stickyRoot))
      throw new UntrustedDirectoryError(
        `${shown} is writable by group or others (mode ${(st.mode & 0o7777).toString(8)}): refusing to use it`,
      );
    if (isTarget && (st.mode & 0o077) !== 0) await chmod(path, st.mode & 0o700);
  }
  await remember(dir, uid);
  return true;
}
