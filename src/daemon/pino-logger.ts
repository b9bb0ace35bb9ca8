import type { Logger as Pino } from 'pino';
import { pino } from 'pino';
import type { Logger } from '../log/logger.ts';

/**
 * Paths pino censors wherever they appear in a log call: bearer tokens, authorization headers
 * and kubeconfig material must never reach a log, even by accident in an error object.
 */
export const REDACTED_PATHS = [
  'authorization',
  'token',
  'bearerToken',
  'password',
  'clientKey',
  'headers.authorization',
  '*.authorization',
  '*.token',
  '*.bearerToken',
  '*.password',
  '*.headers.authorization',
  '*.clientKey',
];

/**
 * Child bindings are merged into each call's fields here rather than by pino, so a key the
 * engine logs itself (containerId, pod) appears once per line, not twice.
 */
function adapt(p: Pino, bindings: Record<string, unknown> = {}): Logger {
  const merge = (fields: Record<string, unknown>) => ({ ...bindings, ...fields });
  return {
    debug: (fields, msg) => p.debug(merge(fields), msg),
    info: (fields, msg) => p.info(merge(fields), msg),
    warn: (fields, msg) => p.warn(merge(fields), msg),
    error: (fields, msg) => p.error(merge(fields), msg),
    child: (fields) => adapt(p, merge(fields)),
  };
}

/** The daemon's structured JSON logger (one line per event on `destination`, default stdout). */
export function pinoLogger(
  level: 'debug' | 'info' | 'warn' | 'error',
  base: Record<string, unknown> = {},
  destination?: NodeJS.WritableStream,
): Logger {
  const p = pino(
    {
      level,
      base: { component: 'multinet-daemon', ...base },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination ?? pino.destination({ dest: 1, sync: true }),
  );
  return adapt(p);
}
