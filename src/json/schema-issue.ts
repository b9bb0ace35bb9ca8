import type * as v from 'valibot';

/*
 * What the parsers of wire formats (the CNI result, the selection element, the network
 * definition) share around their valibot schemas.
 */

/**
 * An issue's path in wire spelling: object keys joined with ".", list indexes as "[i]"
 * (`ips[0].address`, `portMappings[1].hostPort`); undefined for the value itself.
 */
export function issuePath(issue: v.BaseIssue<unknown>): string | undefined {
  let at: string | undefined;
  for (const { key } of issue.path ?? []) {
    const part = typeof key === 'number' ? `[${key}]` : String(key);
    at = at === undefined ? part : `${at}${typeof key === 'number' ? '' : '.'}${part}`;
  }
  return at;
}

/** The members that are neither undefined nor null (JSON null is "not set", as in Go). */
export function present<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], null> } {
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(value)) if (x !== undefined && x !== null) out[k] = x;
  return out as { [K in keyof T]: Exclude<T[K], null> };
}
