import type { NetworkDefinition } from '../spec/network-definition.ts';

/**
 * Why a definition's `spec.config` is over `maxNetworkConfigBytes` ("N bytes; the limit is M
 * (maxNetworkConfigBytes)"), or undefined. A cache that dropped an oversized config recorded its
 * size: that one is over the limit however it was sent. ADD, `multinet validate` and the
 * admission webhook all refuse by this one rule.
 */
export function networkConfigSizeProblem(def: NetworkDefinition, max: number): string | undefined {
  const bytes = def.omittedConfigBytes ?? (def.config === undefined ? 0 : Buffer.byteLength(def.config));
  if (def.omittedConfigBytes === undefined && bytes <= max) return undefined;
  return `${bytes} bytes; the limit is ${max} (maxNetworkConfigBytes)`;
}
