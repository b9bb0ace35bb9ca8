import { constants, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';

/**
 * Reads a cache file without following a symlink (O_NOFOLLOW) and only if it is a regular file
 * (O_NONBLOCK: a FIFO planted in its place cannot block us). undefined when it does not exist.
 * Errors never quote the content: a file swapped for /etc/shadow must not leak into a CNI answer.
 */
export async function readFileNoFollow(
  path: string,
  opts: {
    /** Refuses the opened file (throws) on its stat: owner, mode, size. */
    check?: (st: Stats) => void;
    /** Reads at most this many bytes; a file that grew past it after the check is refused. */
    maxBytes?: number;
  } = {},
): Promise<string | undefined> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') throw new Error(`${path} is a symbolic link: refusing to read it`);
    throw err;
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new Error(`${path} is not a regular file: refusing to read it`);
    opts.check?.(st);
    if (opts.maxBytes === undefined) return await handle.readFile('utf8');
    const buf = Buffer.alloc(opts.maxBytes + 1);
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    if (bytesRead > opts.maxBytes) throw new Error(`${path} grew beyond ${opts.maxBytes} bytes: refusing it`);
    return buf.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
}
