import { statfs, stat } from 'node:fs/promises';
import { dirname, isAbsolute, normalize } from 'node:path';
import type { NetnsState } from '../engine/leak-sources.ts';

/** statfs(2) f_type of a network namespace file (linux/magic.h NSFS_MAGIC). */
const NSFS_MAGIC = 0x6e736673;

/**
 * What a recorded CNI_NETNS path says about its sandbox, from this process's mount namespace:
 * present while the path is an nsfs file (a bind-mounted netns, or /proc/PID/ns/net of a live
 * process); gone when it is missing from a directory that is itself visible, or is no longer a
 * netns mount. Anything else is unknown: gc run where the runtime's netns directory is not
 * mounted (a container without it) must not take every sandbox for gone, nor a /proc path in
 * another PID namespace.
 */
export async function probeNetns(path: string): Promise<NetnsState> {
  if (!isAbsolute(path) || normalize(path) !== path)
    return {
      state: 'unknown',
      why: `netns path ${JSON.stringify(path.slice(0, 200))} is not a plain absolute path`,
    };
  try {
    const fs = await statfs(path);
    if (Number(fs.type) === NSFS_MAGIC) return { state: 'present' };
    return { state: 'gone', why: `netns ${path} is no longer a network namespace mount (nsfs)` };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT')
      return { state: 'unknown', why: `netns ${path} cannot be checked (${code ?? String(err)})` };
  }
  if (/^\/proc\/\d+\//.test(path))
    return {
      state: 'unknown',
      why: `netns ${path}: no such process here (gc may not run in the host's PID namespace)`,
    };
  const dir = dirname(path);
  const parent = await stat(dir).catch(() => undefined);
  if (!parent?.isDirectory())
    return {
      state: 'unknown',
      why: `netns ${path}: its directory ${dir} is not visible here (run gc where the runtime's netns directory is mounted)`,
    };
  return { state: 'gone', why: `netns ${path} is gone` };
}
