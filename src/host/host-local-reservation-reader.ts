import { isIP } from 'node:net';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { HostLocalStore } from '../engine/host-local-stores.ts';
import type { HostLocalReservation } from '../engine/leak-sources.ts';
import { readFileNoFollow } from './read-file-no-follow.ts';

const SAFE_ID = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const MAX_FILE_BYTES = 1024;
const MAX_FILES = 65_536;

/**
 * host-local's reservations in `<dataDir>/<network>/`: one file per address, named by the
 * address, holding `containerID\r\nifname` (host-local 0.8.6+; the container ID alone before).
 * A dataDir can come from a tenant's NAD, so only what host-local writes is read: files named
 * by an IP address, regular (never through a symlink), small. A missing store holds nothing.
 */
export async function readHostLocalReservations(store: HostLocalStore): Promise<HostLocalReservation[]> {
  const dir = join(store.dataDir, store.network);
  const st = await lstat(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (!st) return [];
  if (!st.isDirectory()) throw new Error(`${dir} is not a directory`);
  const names = (await readdir(dir)).filter((n) => isIP(n) !== 0).sort();
  if (names.length > MAX_FILES) throw new Error(`${dir} holds more than ${MAX_FILES} reservations`);
  const out: HostLocalReservation[] = [];
  for (const ip of names) {
    const path = join(dir, ip);
    const base = { store, ip, containerId: '', ifName: '', reservedAtMs: 0 };
    try {
      const fst = await lstat(path);
      base.reservedAtMs = fst.mtimeMs;
      if (!fst.isFile() || fst.size > MAX_FILE_BYTES) {
        out.push({ ...base, problem: `${path} is not a small regular file` });
        continue;
      }
      const text = await readFileNoFollow(path);
      if (text === undefined) continue; // released meanwhile
      const [id = '', ifName = ''] = text.split(/\r?\n/).map((s) => s.trim());
      if (!SAFE_ID.test(id) || id.length > 256 || (ifName !== '' && !SAFE_ID.test(ifName))) {
        out.push({ ...base, problem: `${path} does not hold a container ID and an interface name` });
        continue;
      }
      out.push({ ...base, containerId: id, ifName });
    } catch (err) {
      out.push({ ...base, problem: `${path} cannot be read: ${(err as Error).message}` });
    }
  }
  return out;
}
