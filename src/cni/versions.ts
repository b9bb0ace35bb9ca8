import { CniError, CniErrorCode } from './cni-error.ts';

/** Every CNI spec version this implementation speaks, oldest first. */
export const SUPPORTED_VERSIONS = ['0.1.0', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;

export type SupportedVersion = (typeof SUPPORTED_VERSIONS)[number];

/** The newest version we implement (libcni's `version.Current()`). */
export const CURRENT_VERSION: SupportedVersion = '1.1.0';

export type VersionTriple = readonly [major: number, minor: number, patch: number];

const NUMERIC = /^(0|[1-9][0-9]{0,8})$/;

/**
 * Parses a spec version the way `pkg/version.ParseVersion` does: "" means 0.1.0 (configs that
 * predate the field), at most three numeric parts, missing parts are 0. Throws CniError code 7.
 */
export function parseVersion(version: string): VersionTriple {
  if (version === '') return [0, 1, 0];
  const parts = version.split('.');
  if (parts.length > 3 || parts.some((p) => !NUMERIC.test(p))) {
    throw new CniError(
      CniErrorCode.InvalidNetworkConfig,
      `invalid version ${JSON.stringify(version)}`,
      'a CNI version has up to three numeric parts, e.g. "1.0.0"',
    );
  }
  const [major = 0, minor = 0, patch = 0] = parts.map(Number);
  return [major, minor, patch];
}

/** Negative, zero or positive like a sort comparator. */
export function compareVersions(a: string, b: string): number {
  const x = parseVersion(a);
  const y = parseVersion(b);
  for (let i = 0; i < 3; i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export function versionAtLeast(version: string, minimum: string): boolean {
  return compareVersions(version, minimum) >= 0;
}

/** "" and "0.1" normalise to the canonical "0.1.0" spelling; invalid strings throw. */
export function normalizeVersion(version: string): string {
  return parseVersion(version).join('.');
}

/** normalizeVersion that answers undefined instead of throwing. */
export function tryNormalizeVersion(version: string): string | undefined {
  try {
    return normalizeVersion(version);
  } catch {
    return undefined;
  }
}

export function isSupportedVersion(version: string): version is SupportedVersion {
  return (SUPPORTED_VERSIONS as readonly string[]).includes(version);
}

/**
 * Picks the version a network configuration list runs with (SPEC §1 "Version considerations"):
 * the highest of `cniVersion` ∪ `cniVersions` that we implement. Unlike libcni, which accepts any
 * version not above its own, an unknown version (e.g. "0.3.2") is not selectable: we could not
 * parse the results it implies. Throws CniError code 1 when nothing is selectable.
 */
export function selectVersion(cniVersion: string, cniVersions: readonly string[] = []): SupportedVersion {
  return selectVersionFrom([cniVersion, ...cniVersions], SUPPORTED_VERSIONS);
}

/**
 * Highest version among `candidates` (after normalisation) that is also in `allowed`. Used both
 * for the list's own version and for negotiation against plugins' VERSION answers.
 */
export function selectVersionFrom(
  candidates: readonly string[],
  allowed: readonly string[],
): SupportedVersion {
  let best: SupportedVersion | undefined;
  for (const c of candidates) {
    const v = normalizeVersion(c);
    if (!isSupportedVersion(v) || !allowed.includes(v)) continue;
    if (best === undefined || compareVersions(v, best) > 0) best = v;
  }
  if (best === undefined) {
    throw new CniError(
      CniErrorCode.IncompatibleVersion,
      'incompatible CNI versions',
      `config offers ${JSON.stringify(candidates)}, supported are ${JSON.stringify(allowed)}`,
    );
  }
  return best;
}
