import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, open, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Replaces `path` so that readers see the old or the new content, never a torn write, even
 * across a crash: write a temporary file in the same directory, fsync it, rename it over the
 * target, then fsync the directory so the rename itself is durable. The temporary name starts
 * with "." and contains ".tmp" so directory listings can skip leftovers.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  mode = 0o600,
  /**
   * false: the same replace-by-rename (no reader ever sees a torn file while the node runs), but
   * no fsync of the file or the directory, so a power loss may leave the old content or none.
   * For records whose loss costs nothing but a fallback (as libcni writes its result cache:
   * os.WriteFile, no fsync); what DEL needs stays durable.
   */
  durable = true,
): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  let renamed = false;
  try {
    // O_EXCL on a fresh random name, and O_NOFOLLOW: a planted name or link is never written through.
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
    const file = await open(tmp, flags, mode);
    try {
      await file.writeFile(data);
      if (durable) await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, path);
    renamed = true;
    if (durable) await syncDirectory(dir);
  } finally {
    if (!renamed) await rm(tmp, { force: true });
  }
}

/** The temporary names writeFileAtomic uses: `.<name>.<12 hex>.tmp`. */
const TEMP_NAME = /^\..+\.[0-9a-f]{12}\.tmp$/;

/**
 * Removes the temporary files of writes that a crash interrupted (SIGKILL between the write and
 * the rename); returns how many were removed. Without `olderThanMs` only safe while nobody else
 * writes in `dir` (the daemon at start). With it (thin mode, where other calls may be writing),
 * only files last modified that long ago go: a write takes milliseconds, and a writer whose file
 * was removed all the same gets ENOENT from its rename, an I/O error, never a torn file.
 * `mine` names the targets the caller alone may be writing (thin mode: the files of the container
 * whose lock it holds); their temporary files go whatever their age.
 */
export async function removeInterruptedWrites(
  dir: string,
  olderThanMs?: number,
  mine?: (target: string) => boolean,
): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0;
  }
  let stale = names.filter((n) => TEMP_NAME.test(n));
  if (olderThanMs !== undefined) {
    const cutoff = Date.now() - olderThanMs;
    const old = await Promise.all(
      stale.map(async (n) => {
        if (mine?.(targetOf(n))) return true;
        const st = await lstat(join(dir, n)).catch(() => undefined);
        return st !== undefined && st.mtimeMs < cutoff;
      }),
    );
    stale = stale.filter((_, i) => old[i]);
  }
  await Promise.all(stale.map((n) => rm(join(dir, n), { force: true })));
  return stale.length;
}

/** The file a temporary name was going to replace: `.<name>.<12 hex>.tmp` → `<name>`. */
function targetOf(tempName: string): string {
  return tempName.slice(1, -'.0123456789ab.tmp'.length);
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
