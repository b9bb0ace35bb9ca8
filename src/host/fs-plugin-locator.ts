import { stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { pluginTypeProblem } from '../cni/network-config.ts';
import { PluginNotFoundError, type PluginLocator } from '../cni/plugin-runner.ts';

/**
 * Finds a plugin binary like pkg/invoke FindInPath: the first directory of CNI_PATH holding a
 * regular file named after the type wins (no executable-bit check, as in Go: running it reports
 * a permission problem more clearly than "not found").
 */
export class FsPluginLocator implements PluginLocator {
  async find(type: string, paths: string[]): Promise<string> {
    const problem = pluginTypeProblem(type);
    if (problem)
      throw new PluginNotFoundError(type, paths, `invalid plugin type ${JSON.stringify(type)}: ${problem}`);
    if (paths.length === 0)
      throw new PluginNotFoundError(type, paths, `no paths provided to find plugin ${JSON.stringify(type)}`);
    for (const dir of paths) {
      const candidate = join(isAbsolute(dir) ? dir : resolve(dir), type);
      try {
        if ((await stat(candidate)).isFile()) return candidate;
      } catch {
        // Missing or unreadable: try the next directory.
      }
    }
    throw new PluginNotFoundError(type, paths);
  }
}
