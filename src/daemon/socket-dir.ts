import { connect } from 'node:net';
import { chmod, lstat, mkdir, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Makes the socket's directory private: created 0700 if missing; an existing one must be a
 * directory owned by `uid` (root in production) and writable by nobody else, else we refuse to
 * start — anyone who can write there could replace the socket and receive every CNI call.
 */
export async function ensureSocketDir(socketPath: string, uid: number): Promise<void> {
  const dir = dirname(socketPath);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const st = await lstat(dir);
  if (!st.isDirectory()) throw new Error(`socket directory ${dir} is not a directory`);
  if (st.uid !== uid)
    throw new Error(`socket directory ${dir} is owned by uid ${st.uid}, not ${uid}: refusing to use it`);
  if ((st.mode & 0o022) !== 0)
    throw new Error(
      `socket directory ${dir} is writable by group or others (mode ${(st.mode & 0o777).toString(8)}): refusing to use it`,
    );
  if ((st.mode & 0o777) !== 0o700) await chmod(dir, 0o700);
}

/** True when something accepts connections on the socket. */
function listening(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(socketPath);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * Removes a socket left by a daemon that died. Refuses if another daemon still answers on it,
 * or if the path is something other than a socket.
 */
export async function removeStaleSocket(socketPath: string): Promise<void> {
  let st;
  try {
    st = await lstat(socketPath);
  } catch {
    return;
  }
  if (!st.isSocket()) throw new Error(`${socketPath} exists and is not a socket: refusing to replace it`);
  if (await listening(socketPath))
    throw new Error(`another daemon is listening on ${socketPath}: refusing to start a second one`);
  await unlink(socketPath);
}
