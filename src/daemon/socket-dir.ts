import { connect } from 'node:net';
import { lstat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ensurePrivateDir } from '../host/private-dir.ts';

/**
 * Makes the socket's directory private (host/private-dir.ts: created 0700, every component owned
 * by root and writable by nobody else), else we refuse to start — anyone who can write there
 * could replace the socket and receive every CNI call.
 */
export async function ensureSocketDir(socketPath: string, uid: number): Promise<void> {
  await ensurePrivateDir(dirname(socketPath), uid, 'socket directory');
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
