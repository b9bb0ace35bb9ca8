/**
 * multinet's options out of a config file given to `validate --config` / `explain --config`: the
 * daemon's config file, a thin-mode conflist (its `type: multinet` plugin), or a plugin object.
 */
export function multinetOptionsFromText(text: string, path: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`${path}: not JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new Error(`${path}: must be a JSON object (multinet's config)`);
  const obj = parsed as Record<string, unknown>;
  const plugins = obj['plugins'];
  if (!Array.isArray(plugins)) return obj;
  const own = plugins.find(
    (p): p is Record<string, unknown> =>
      typeof p === 'object' && p !== null && (p as Record<string, unknown>)['type'] === 'multinet',
  );
  if (!own) throw new Error(`${path}: a configuration list without a "type": "multinet" plugin`);
  return own;
}
