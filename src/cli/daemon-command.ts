import { parseArgs } from 'node:util';

export const DAEMON_USAGE = 'usage: multinet daemon --config FILE\n';

/** `multinet daemon` arguments; undefined (after printing usage) when they are wrong. */
export function parseDaemonArgs(
  args: string[],
  stderr: (s: string) => void,
): { configPath: string } | undefined {
  try {
    const { values } = parseArgs({
      args,
      options: { config: { type: 'string', short: 'c' } },
      allowPositionals: false,
    });
    if (!values.config) throw new Error('--config is required');
    return { configPath: values.config };
  } catch (err) {
    stderr(`multinet daemon: ${err instanceof Error ? err.message : String(err)}\n${DAEMON_USAGE}`);
    return undefined;
  }
}
