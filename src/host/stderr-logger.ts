import type { Logger } from '../log/logger.ts';

const LEVELS = { debug: 20, info: 30, warn: 40, error: 50 } as const;
type Level = keyof typeof LEVELS;

/**
 * A JSON-lines logger for the per-call thin plugin: the runtime keeps a plugin's stderr, and a
 * logging library's import would cost every pod start. The daemon uses pino instead.
 */
export function stderrLogger(
  minLevel: Level,
  base: Record<string, unknown> = {},
  write = (s: string) => process.stderr.write(s),
): Logger {
  const make = (level: Level) => (fields: Record<string, unknown>, msg: string) => {
    if (LEVELS[level] < LEVELS[minLevel]) return;
    write(`${JSON.stringify({ level, time: new Date().toISOString(), ...base, ...fields, msg })}\n`);
  };
  return {
    debug: make('debug'),
    info: make('info'),
    warn: make('warn'),
    error: make('error'),
    child: (fields) => stderrLogger(minLevel, { ...base, ...fields }, write),
  };
}
