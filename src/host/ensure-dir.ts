import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Creates `path` (and missing parents) with `mode` if needed. Not `mkdir({ recursive: true })`:
 * on a read-only file system Node reports that as ENOENT "no such file or directory", which
 * sends an administrator looking for a missing directory instead of at the mount.
 */
export async function ensureDir(path: string, mode: number): Promise<void> {
  try {
    await mkdir(path, { mode });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return;
    if (code !== 'ENOENT' || dirname(path) === path) throw err;
    await ensureDir(dirname(path), mode);
    await mkdir(path, { mode }).catch((again: NodeJS.ErrnoException) => {
      if (again.code !== 'EEXIST') throw again;
    });
  }
}
