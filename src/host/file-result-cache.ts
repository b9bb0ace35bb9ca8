import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  cacheFileName,
  decodeCacheRecord,
  encodeCacheRecord,
  isListableRecord,
  type ResultCache,
  type ResultCacheKey,
  type ResultCacheRecord,
} from '../cni/result-cache.ts';
import { removeInterruptedWrites, writeFileAtomic } from './atomic-file.ts';
import { checkPrivateDir, ensurePrivateDir } from './private-dir.ts';
import { readFileNoFollow } from './read-file-no-follow.ts';

/**
 * libcni's result cache on disk (containernetworking/cni libcni/api.go): `<cacheDir>/results/<network>-<containerID>-<ifname>`,
 * directory 0700 and files 0600 because results and args may carry pod details. Writes are atomic.
 * Every operation first checks that root alone controls the directories (host/private-dir.ts);
 * files are read without following symlinks, and errors never quote what a file holds.
 */
export class FileResultCache implements ResultCache {
  readonly dir: string;
  private readonly cacheDir: string;
  private readonly uid: number;

  constructor(cacheDir: string, opts: { uid?: number } = {}) {
    this.cacheDir = cacheDir;
    this.dir = join(cacheDir, 'results');
    this.uid = opts.uid ?? process.geteuid?.() ?? 0;
  }

  /** Before a write: creates what is missing, then checks (host/private-dir.ts). */
  private async ensure(): Promise<void> {
    await ensurePrivateDir(this.cacheDir, this.uid, 'cache directory');
    await ensurePrivateDir(this.dir, this.uid, 'result cache directory');
  }

  /** Before a read: checks what exists; false when there is nothing to read (nothing is created). */
  private async readable(): Promise<boolean> {
    if (!(await checkPrivateDir(this.cacheDir, this.uid, 'cache directory'))) return false;
    return checkPrivateDir(this.dir, this.uid, 'result cache directory');
  }

  async get(key: ResultCacheKey): Promise<ResultCacheRecord | undefined> {
    const name = cacheFileName(key);
    if (!(await this.readable())) return undefined;
    const text = await readFileNoFollow(join(this.dir, name));
    return text === undefined ? undefined : decodeCacheRecord(text, key);
  }

  /**
   * Removes temporary files a crash left behind (see removeInterruptedWrites for `olderThanMs`);
   * those of `containerId`, whose lock the caller holds, go whatever their age.
   */
  async removeInterruptedWrites(olderThanMs?: number, containerId?: string): Promise<number> {
    if (!(await this.readable())) return 0;
    return removeInterruptedWrites(
      this.dir,
      olderThanMs,
      containerId === undefined ? undefined : (target) => target.includes(`-${containerId}-`),
    );
  }

  async put(record: ResultCacheRecord): Promise<void> {
    const name = cacheFileName(record);
    await this.ensure();
    // Not fsynced (libcni does not either): DEL's durable record is the plan, on disk before the
    // first delegate runs. A record a power loss takes costs its prevResult at DEL and CHECK, and
    // GC then learns the attachment from the plan; two fsyncs per attachment saved on every ADD.
    await writeFileAtomic(join(this.dir, name), encodeCacheRecord(record), 0o600, false);
  }

  async delete(key: ResultCacheKey): Promise<void> {
    const name = cacheFileName(key);
    if (!(await this.readable())) return;
    await rm(join(this.dir, name), { force: true });
  }

  /** Like libcni GetCachedAttachments: sorted, filtered by `-<containerID>-` in the name, unreadable files skipped. */
  async list(containerId?: string): Promise<ResultCacheRecord[]> {
    if (!(await this.readable())) return [];
    let names: string[];
    try {
      names = (await readdir(this.dir)).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: ResultCacheRecord[] = [];
    for (const name of names) {
      if (name.startsWith('.')) continue; // temporary files of an interrupted write
      if (containerId !== undefined && !name.includes(`-${containerId}-`)) continue;
      try {
        const text = await readFileNoFollow(join(this.dir, name));
        const record = text === undefined ? undefined : decodeCacheRecord(text);
        if (record && isListableRecord(record, containerId)) out.push(record);
      } catch {
        // Unreadable entries cannot be listed; get() on their key reports them.
      }
    }
    return out;
  }
}
