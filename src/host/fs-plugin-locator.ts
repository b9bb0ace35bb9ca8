import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, sep } from 'node:path';
import { pluginTypeProblem } from '../names/plugin-type.ts';
import { PluginNotFoundError, type PluginLocator } from '../cni/plugin-runner.ts';

export interface FsPluginLocatorOptions {
  /** Types never resolved, whatever the directories hold (multinet's own binaries). */
  refusedTypes?: Iterable<string>;
  /** Owners trusted for a plugin file besides root (default: this process's effective uid). */
  trustedUid?: number;
}

/**
 * Finds a plugin binary like pkg/invoke FindInPath: the first absolute directory of the search
 * path holding an entry named after the type wins. Unlike FindInPath the entry must be, after
 * resolving symlinks, a regular file inside one of the search directories (a link
 * `/opt/cni/bin/x -> /bin/sh` does not make a shell a plugin), owned by root and writable by
 * nobody else: the daemon runs it as root. Relative directories are ignored (they would resolve
 * against whatever the working directory is). No executable-bit check, as in Go: running it
 * reports a permission problem more clearly than "not found".
 */
export class FsPluginLocator implements PluginLocator {
  private readonly refused: ReadonlySet<string>;
  private readonly trusted: ReadonlySet<number>;

  constructor(opts: FsPluginLocatorOptions = {}) {
    this.refused = new Set(opts.refusedTypes ?? []);
    this.trusted = new Set([0, opts.trustedUid ?? process.geteuid?.() ?? 0]);
  }

  async find(type: string, paths: string[]): Promise<string> {
    const problem = pluginTypeProblem(type);
    if (problem)
      throw new PluginNotFoundError(type, paths, `invalid plugin type ${JSON.stringify(type)}: ${problem}`);
    if (this.refused.has(type))
      throw new PluginNotFoundError(
        type,
        paths,
        `plugin type ${JSON.stringify(type)} is multinet itself and is never run as a delegate`,
      );
    const dirs = paths.filter((p) => isAbsolute(p));
    if (dirs.length === 0)
      throw new PluginNotFoundError(type, paths, `no paths provided to find plugin ${JSON.stringify(type)}`);
    const realDirs = (await Promise.all(dirs.map((d) => realpath(d).catch(() => undefined)))).filter(
      (d): d is string => d !== undefined,
    );
    for (const dir of dirs) {
      const candidate = join(dir, type);
      let real: string;
      try {
        real = await realpath(candidate);
      } catch {
        continue; // Missing or unreadable: try the next directory.
      }
      const st = await stat(real);
      if (!st.isFile()) continue;
      const why = this.untrusted(real, st, realDirs);
      if (why) throw new PluginNotFoundError(type, paths, `refusing plugin ${candidate}: ${why}`);
      return candidate;
    }
    throw new PluginNotFoundError(type, paths);
  }

  private untrusted(real: string, st: { uid: number; mode: number }, realDirs: string[]): string | undefined {
    if (!realDirs.some((d) => real.startsWith(d.endsWith(sep) ? d : d + sep)))
      return `it resolves to ${real}, outside the plugin directories ${JSON.stringify(realDirs)}`;
    if (!this.trusted.has(st.uid)) return `${real} is owned by uid ${st.uid}, not root`;
    if ((st.mode & 0o022) !== 0)
      return `${real} is writable by group or others (mode ${(st.mode & 0o777).toString(8)})`;
    return undefined;
  }
}
