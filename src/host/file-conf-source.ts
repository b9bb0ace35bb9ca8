import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConfSource } from '../engine/conf-source.ts';
import type { ConfFile } from '../spec/resolve-delegate-config.ts';

const EXTENSIONS = ['.conf', '.conflist', '.json'];
/** CNI configs are small; anything bigger is refused rather than read into memory. */
const MAX_CONF_BYTES = 1 << 20;

async function readSmall(path: string): Promise<string | undefined> {
  try {
    const st = await stat(path);
    if (!st.isFile() || st.size > MAX_CONF_BYTES) return undefined;
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** CNI config files on the node's disk. */
export class FileConfSource implements ConfSource {
  async listConfFiles(dir: string): Promise<ConfFile[]> {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return [];
    }
    const out: ConfFile[] = [];
    for (const name of names.filter((n) => EXTENSIONS.some((e) => n.endsWith(e))).sort()) {
      const content = await readSmall(join(dir, name));
      if (content !== undefined && content.trim() !== '') out.push({ path: join(dir, name), content });
    }
    return out;
  }

  async readConfFile(path: string): Promise<ConfFile | undefined> {
    const content = await readSmall(path);
    return content === undefined ? undefined : { path, content };
  }

  async exists(path: string): Promise<boolean> {
    try {
      await stat(path);
      return true;
    } catch {
      return false;
    }
  }

  async isDirectory(path: string): Promise<boolean> {
    try {
      return (await stat(path)).isDirectory();
    } catch {
      return false;
    }
  }
}
