import type { EngineOptions } from '../config/multinet-config.ts';

/**
 * NPWG §7.4 namespace isolation: why a pod of `podNamespace` may not select a network defined in
 * `networkNamespace`, or undefined when it may. ADD, `multinet validate --config` and the
 * admission webhook refuse by this one rule, in these words.
 */
export function namespaceIsolationProblem(
  config: Pick<EngineOptions, 'namespaceIsolation' | 'globalNamespaces'>,
  podNamespace: string,
  networkNamespace: string,
  alsoAllowed: readonly string[] = [],
): string | undefined {
  const allowed = [...config.globalNamespaces, ...alsoAllowed];
  if (!config.namespaceIsolation || networkNamespace === podNamespace || allowed.includes(networkNamespace))
    return undefined;
  return `namespaceIsolation is on: pods in namespace "${podNamespace}" may only use networks from their own namespace or from ${allowed.join(', ') || '(no global namespaces)'}`;
}
