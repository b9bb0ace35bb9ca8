import { readFile } from 'node:fs/promises';

/** When the node booted (ms since the epoch), from /proc/stat's `btime`; undefined if unreadable. */
export async function readBootTimeMs(procStat = '/proc/stat'): Promise<number | undefined> {
  const text = await readFile(procStat, 'utf8').catch(() => '');
  const m = /^btime (\d+)$/m.exec(text);
  return m ? Number(m[1]) * 1000 : undefined;
}
