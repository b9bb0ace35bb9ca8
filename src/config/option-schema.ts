import * as v from 'valibot';

/**
 * The building blocks of multinet's config schemas (valibot). Each option is one schema that
 * checks the value, gives its default and carries what docs/configuration.md says of it, so the
 * doc's tables (scripts/gen-config-docs.ts) and the checks cannot drift apart. A missing or `null`
 * key takes the default. Messages say what is wrong in the words the old hand-written checks used;
 * ConfigError prefixes the key.
 */
export class ConfigError extends Error {
  readonly key: string;
  constructor(key: string, reason: string) {
    super(`multinet config: key "${key}": ${reason}`);
    this.name = 'ConfigError';
    this.key = key;
  }
}

/** What a doc table row says of an option besides its description (the "meaning" column). */
export interface OptionDoc extends Record<string, unknown> {
  /** The "type" column. */
  type: string;
  /** The "default" column, when the default value alone does not say it (computed, required). */
  default?: string;
  /** Another spelling of the same option (`binDir` of `binDirs`): documented in its row. */
  aliasOf?: string;
}

/** One option of a config object: its input is whatever the file holds, its output the checked value. */
export type Option<T> = v.GenericSchema<unknown, T>;

/** `meaning` is the doc table's description of the key. */
function option<T>(base: v.GenericSchema<unknown, T>, dflt: T | undefined, doc: OptionDoc, meaning: string) {
  return v.pipe(
    v.nullish(base, dflt as never),
    v.metadata(doc),
    v.description(meaning),
  ) as unknown as Option<T>;
}

const typeName = (x: unknown) => (Array.isArray(x) ? 'array' : x === null ? 'null' : typeof x);

export function str(dflt: string, meaning: string, doc: Partial<OptionDoc> = {}): Option<string> {
  return option(
    v.string((i) => `must be a string, got ${typeName(i.input)}`),
    dflt,
    { type: 'string', ...doc },
    meaning,
  );
}

/** Optional string whose absence (undefined) means something of its own. */
export function optionalStr(meaning: string, doc: Partial<OptionDoc> = {}): Option<string | undefined> {
  return option<string | undefined>(
    v.string((i) => `must be a string, got ${typeName(i.input)}`),
    undefined,
    { type: 'string', ...doc },
    meaning,
  );
}

const ABSOLUTE = (s: string) => s === '' || (s.startsWith('/') && !s.includes('\0'));

export function absPath(dflt: string, meaning: string, doc: Partial<OptionDoc> = {}): Option<string> {
  return option(
    v.pipe(
      v.string((i) => `must be a string, got ${typeName(i.input)}`),
      v.check(ABSOLUTE, (i) => `must be an absolute path, got "${String(i.input)}"`),
    ),
    dflt,
    { type: 'absolute path', ...doc },
    meaning,
  );
}

/** A plain file name: no `/`, not hidden. */
export function fileName(dflt: string, meaning: string): Option<string> {
  return option(
    v.pipe(
      v.string((i) => `must be a string, got ${typeName(i.input)}`),
      v.check(
        (s) => !s.includes('/') && !s.startsWith('.'),
        (i) => `must be a plain file name, got "${String(i.input)}"`,
      ),
    ),
    dflt,
    { type: 'file name' },
    meaning,
  );
}

const BOOL_MESSAGE = 'must be a boolean';

/** true/false, or the strings "true"/"false" in any case (as Multus' configs sometimes hold them). */
export function bool(
  dflt: boolean | undefined,
  meaning: string,
  doc: Partial<OptionDoc> = {},
): Option<boolean> {
  return option(
    v.union(
      [
        v.boolean(BOOL_MESSAGE),
        v.pipe(
          v.string(BOOL_MESSAGE),
          v.regex(/^(true|false)$/i, BOOL_MESSAGE),
          v.transform((s) => s.toLowerCase() === 'true'),
        ),
      ],
      BOOL_MESSAGE,
    ),
    dflt,
    { type: 'bool', ...doc },
    meaning,
  ) as Option<boolean>;
}

const LIST_MESSAGE = 'must be a list of strings (or a comma-separated string)';

/** A list of strings, or one comma-separated string (Multus writes globalNamespaces so). */
export function list(dflt: string[], meaning: string, doc: Partial<OptionDoc> = {}): Option<string[]> {
  return option(
    v.union(
      [
        v.array(v.string(LIST_MESSAGE), LIST_MESSAGE),
        v.pipe(
          v.string(LIST_MESSAGE),
          v.transform((s) =>
            s
              .split(',')
              .map((x) => x.trim())
              .filter((x) => x !== ''),
          ),
        ),
      ],
      LIST_MESSAGE,
    ),
    dflt,
    { type: 'string list (or comma-separated string)', ...doc },
    meaning,
  );
}

/** A number of seconds, 0 < n <= 3600, fractions allowed. */
export function seconds(dflt: number, meaning: string): Option<number> {
  const message = 'must be a number of seconds between 0 and 3600';
  return option(
    v.pipe(v.number(message), v.finite(message), v.gtValue(0, message), v.maxValue(3600, message)),
    dflt,
    { type: 'number (seconds, up to 3600)' },
    meaning,
  );
}

/** A whole number from `min` to `max`; `unit` ends the message ("bytes"), when the range needs one. */
export function integer(
  dflt: number | undefined,
  min: number,
  max: number,
  meaning: string,
  doc: Partial<OptionDoc> & { message?: string } = {},
): Option<number> {
  const { message, ...rest } = doc;
  const say = (i: { input: unknown }) =>
    message ?? `must be an integer from ${min} to ${max}, got ${String(i.input)}`;
  return option(
    v.pipe(
      v.number((i) => message ?? `must be a number, got ${typeName(i.input)}`),
      v.integer(say),
      v.minValue(min, say),
      v.maxValue(max, say),
    ),
    dflt,
    { type: `integer ${min}-${max}`, ...rest },
    meaning,
  );
}

export function oneOf<const T extends string>(allowed: readonly T[], dflt: T, meaning: string): Option<T> {
  return option(
    v.picklist(
      allowed,
      (i) =>
        `must be one of ${allowed.join(', ')}, got ${typeof i.input === 'string' ? `"${i.input}"` : typeName(i.input)}`,
    ),
    dflt,
    { type: allowed.map((a) => `\`${a}\``).join(' \\| ') },
    meaning,
  );
}

/** A JSON object (a CNI config, a policy): its own parser checks the inside. */
export function object(meaning: string, doc: Partial<OptionDoc> = {}, message = 'must be an object') {
  return option<Record<string, unknown> | undefined>(
    v.custom<Record<string, unknown>>(
      (x) => typeof x === 'object' && x !== null && !Array.isArray(x),
      message,
    ),
    undefined,
    { type: 'object', ...doc },
    meaning,
  );
}

/** What one parse found: the checked values, and the keys the file held that nobody reads. */
export interface Parsed<T> {
  value: T;
  unknownKeys: string[];
}

/**
 * Checks `raw` against `entries` (keys not listed are left out of the value). The first problem
 * throws a ConfigError naming its key; `known` lists keys that are not options but belong in the
 * object all the same (a CNI plugin object's `type`), which are not reported as unknown.
 */
export function parseOptions<E extends v.ObjectEntries>(
  entries: E,
  raw: Record<string, unknown>,
  known: ReadonlySet<string> = new Set(),
): Parsed<v.InferOutput<v.ObjectSchema<E, undefined>>> {
  const result = v.safeParse(v.object(entries), raw, { abortEarly: true });
  if (!result.success) {
    const issue = result.issues[0];
    throw new ConfigError(v.getDotPath(issue) ?? '(file)', issue.message);
  }
  const unknownKeys = Object.keys(raw).filter((k) => !Object.hasOwn(entries, k) && !known.has(k));
  return { value: result.output, unknownKeys };
}

/** The doc table rows of a schema's entries, in their order (scripts/gen-config-docs.ts). */
export interface OptionRow {
  key: string;
  aliases: string[];
  type: string;
  default: string;
  meaning: string;
}

function formatDefault(value: unknown): string {
  if (value === undefined) return '—';
  if (typeof value === 'string') return value === '' ? '`""`' : `\`${value}\``;
  return `\`${JSON.stringify(value)}\``;
}

export function optionRows(entries: v.ObjectEntries): OptionRow[] {
  const rows: OptionRow[] = [];
  const byKey = new Map<string, OptionRow>();
  for (const [key, schema] of Object.entries(entries)) {
    const doc = v.getMetadata(schema as never) as unknown as OptionDoc;
    if (doc.aliasOf !== undefined) {
      byKey.get(doc.aliasOf)?.aliases.push(key);
      continue;
    }
    const row: OptionRow = {
      key,
      aliases: [],
      type: doc.type,
      default: doc.default ?? formatDefault(v.getDefault(schema as never)),
      meaning: v.getDescription(schema as never) ?? '',
    };
    rows.push(row);
    byKey.set(key, row);
  }
  return rows;
}
