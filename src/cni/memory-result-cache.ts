import {
  cacheFileName,
  decodeCacheRecord,
  encodeCacheRecord,
  isListableRecord,
  type ResultCache,
  type ResultCacheKey,
  type ResultCacheRecord,
} from './result-cache.ts';

/**
 * ResultCache kept in memory, stored in the same encoded form as on disk so that round-trip
 * behaviour matches FileResultCache. For unit tests and dry runs; `files` is inspectable.
 */
export class MemoryResultCache implements ResultCache {
  /** File name → file content, like `<cacheDir>/results/`. */
  readonly files = new Map<string, string>();

  async get(key: ResultCacheKey): Promise<ResultCacheRecord | undefined> {
    const text = this.files.get(cacheFileName(key));
    return text === undefined ? undefined : decodeCacheRecord(text, key);
  }

  async put(record: ResultCacheRecord): Promise<void> {
    this.files.set(cacheFileName(record), encodeCacheRecord(record));
  }

  async delete(key: ResultCacheKey): Promise<void> {
    this.files.delete(cacheFileName(key));
  }

  async list(containerId?: string): Promise<ResultCacheRecord[]> {
    const out: ResultCacheRecord[] = [];
    for (const name of [...this.files.keys()].sort()) {
      if (containerId !== undefined && !name.includes(`-${containerId}-`)) continue;
      try {
        const record = decodeCacheRecord(this.files.get(name) ?? '');
        if (record && isListableRecord(record, containerId)) out.push(record);
      } catch {
        // An unreadable entry cannot be listed; get() still reports it.
      }
    }
    return out;
  }
}
