import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeCacheRecord, isListableRecord, type ResultCacheRecord } from '../cni/result-cache.ts';
import { readFileNoFollow } from './read-file-no-follow.ts';

/**
 * The records of a libcni result cache directory that is not ours (the runtime's
 * `/var/lib/cni/results`), read only: nothing is created or re-permissioned, symlinks are not
 * followed, and a directory others could write to is refused (its records could be forged to
 * keep a leak alive or to name a live sandbox gone). A missing directory holds nothing.
 */
export async function readResultRecords(dir: string): Promise<ResultCacheRecord[]> {
  const st = await lstat(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (!st) return [];
  if (!st.isDirectory()) throw new Error(`${dir} is not a directory`);
  if (st.uid !== 0 || (st.mode & 0o022) !== 0)
    throw new Error(`${dir} is not root's alone (owner ${st.uid}, mode ${(st.mode & 0o7777).toString(8)})`);
  const out: ResultCacheRecord[] = [];
  for (const name of (await readdir(dir)).sort()) {
    if (name.startsWith('.')) continue;
    try {
      const text = await readFileNoFollow(join(dir, name));
      const record = text === undefined ? undefined : decodeCacheRecord(text);
      if (record && isListableRecord(record)) out.push(record);
    } catch {
      // An unreadable record names no attachment.
    }
  }
  return out;
}
