import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The directory of multinet's package.json, found upwards from a module's URL: the same answer
 * from src/ (tsx), dist/ (tsc output) and a single-file bundle, which sit at different depths.
 */
export function packageRoot(moduleUrl: string): string {
  let dir = dirname(fileURLToPath(moduleUrl));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'deploy'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find multinet's package root above ${fileURLToPath(moduleUrl)}`);
    dir = up;
  }
}
