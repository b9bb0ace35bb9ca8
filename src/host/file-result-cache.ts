import { readdir, readFile, rm } from 'node:fs/promises';
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
import { ensureDir } from './ensure-dir.ts';

/**
 * libcni's result cache on disk (containernetworking/cni libcni/api.go): `<cacheDir>/results/<network>-<containerID>-<ifname>`,
 * directory 0700 and files 0600 because results and args may carry pod details. Writes are atomic.
 */
export class FileResultCache implements ResultCache {
  readonly dir: string;

  constructor(cacheDir: string) {
    this.dir = join(cacheDir, 'results');
  }

  async get(key: ResultCacheKey): Promise<ResultCacheRecord | undefined> {
    const text = await readOptional(join(this.dir, cacheFileName(key)));
    return text === undefined ? undefined : decodeCacheRecord(text, key);
  }

  /** Removes temporary files a crash left behind (see removeInterruptedWrites for `olderThanMs`). */
  removeInterruptedWrites(olderThanMs?: number): Promise<number> {
    return removeInterruptedWrites(this.dir, olderThanMs);
  }

  async put(record: ResultCacheRecord): Promise<void> {
    await ensureDir(this.dir, 0o700);
    await writeFileAtomic(join(this.dir, cacheFileName(record)), encodeCacheRecord(record), 0o600);
  }

  async delete(key: ResultCacheKey): Promise<void> {
    await rm(join(this.dir, cacheFileName(key)), { force: true });
  }

  /** Like libcni GetCachedAttachments: sorted, filtered by `-<containerID>-` in the name, unreadable files skipped. */
  async list(containerId?: string): Promise<ResultCacheRecord[]> {
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
        const text = await readOptional(join(this.dir, name));
        const record = text === undefined ? undefined : decodeCacheRecord(text);
        if (record && isListableRecord(record, containerId)) out.push(record);
      } catch {
        // Unreadable entries cannot be listed; get() on their key reports them.
      }
    }
    return out;
  }
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
