import { link, lstat, mkdir, rename, rm, rmdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { writeFileAtomic } from './atomic-file.ts';
import { installExecutable } from './install-file.ts';

/** One file of an install: its content, or an executable to copy beside-and-rename. */
export type InstallFile = (
  | { path: string; content: string | Buffer; mode: number }
  | { path: string; executableFrom: string }
) & {
  /** Mode of the directories created for it (default 0755). */
  dirMode?: number;
};

/**
 * Writes every file in order, each atomically, or leaves the files as they were: when one write
 * fails, those already written get their previous file back (or are removed if they did not
 * exist), as are directories this call created. Memory stays small whatever the file sizes. The order is the caller's: write what activates
 * the install (the CNI config) last.
 */
export async function installFileSet(files: readonly InstallFile[]): Promise<void> {
  const undo: (() => Promise<void>)[] = [];
  const backups: string[] = [];
  try {
    for (const f of files) {
      for (const dir of await missingDirs(dirname(f.path))) {
        await mkdir(dir, { mode: f.dirMode ?? 0o755 });
        undo.push(() => rmdir(dir).catch(() => undefined));
      }
      const backup = await keepPrevious(f.path);
      if (backup) backups.push(backup);
      if ('executableFrom' in f) await installExecutable(f.executableFrom, f.path);
      else await writeFileAtomic(f.path, f.content, f.mode);
      undo.push(async () => {
        if (backup) await rename(backup, f.path);
        else await rm(f.path, { force: true });
      });
    }
  } catch (err) {
    for (const step of undo.reverse()) await step().catch(() => undefined);
    for (const b of backups) await rm(b, { force: true });
    throw err;
  }
  for (const b of backups) await rm(b, { force: true });
}

/**
 * A hard link to the file being replaced, beside it: the old content comes back by a rename,
 * without reading it (an executable may be far larger than the init container's memory limit).
 */
async function keepPrevious(path: string): Promise<string | undefined> {
  try {
    const st = await lstat(path);
    if (!st.isFile()) throw new Error(`${path} exists and is not a regular file`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const backup = join(dirname(path), `.${basename(path)}.previous-${process.pid}`);
  await rm(backup, { force: true });
  await link(path, backup);
  return backup;
}

/** The directories of `dir` that do not exist yet, outermost first. */
async function missingDirs(dir: string): Promise<string[]> {
  const missing: string[] = [];
  for (let d = dir; ; d = dirname(d)) {
    try {
      await lstat(d);
      return missing.reverse();
    } catch {
      missing.push(d);
      if (dirname(d) === d) return missing.reverse();
    }
  }
}
