import { chmod, copyFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Installs an executable into a directory the runtime execs from, without "text file busy": the
 * new file is written beside the target and renamed over it, so a running old binary keeps its
 * inode and a runtime never sees a half-written file (Multus issue #1221 came from a plain cp).
 */
export async function installExecutable(source: string, target: string): Promise<void> {
  const tmp = join(dirname(target), `.${basename(target)}.tmp-${process.pid}`);
  try {
    await copyFile(source, tmp);
    await chmod(tmp, 0o755);
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
