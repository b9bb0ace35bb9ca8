import * as v from 'valibot';
import { isJsonObject, parseBoundedJson } from './bounded-json.ts';
import { CniError, CniErrorCode } from './cni-error.ts';

/** An attachment is identified by (network, container, interface) (SPEC §3 "Attachment Parameters"). */
export interface ResultCacheKey {
  networkName: string;
  containerId: string;
  ifName: string;
}

/**
 * libcni's cache record (containernetworking/cni libcni/api.go, cachedInfo), field names and layout as libcni writes them so that
 * tools reading /var/lib/cni/results understand ours. `config` is the base64 of the list bytes.
 */
export interface ResultCacheRecord extends ResultCacheKey {
  kind: 'cniCacheV1';
  config: string;
  netns: string;
  cniArgs: [string, string][];
  capabilityArgs: Record<string, unknown>;
  /** The final ADD result as JSON; parse with resultFromJson(record.result, listVersion). */
  result: unknown;
}

/**
 * Port: stores the final result of an ADD so DEL, CHECK and GC work without the original request.
 * `get` resolves undefined for a missing entry and rejects (CniError 6) for an unreadable one.
 */
export interface ResultCache {
  get(key: ResultCacheKey): Promise<ResultCacheRecord | undefined>;
  put(record: ResultCacheRecord): Promise<void>;
  /** Idempotent: deleting a missing entry succeeds. */
  delete(key: ResultCacheKey): Promise<void>;
  /** Valid cniCacheV1 records, optionally only one container's (libcni GetCachedAttachments). */
  list(containerId?: string): Promise<ResultCacheRecord[]>;
}

/** File name under `<cacheDir>/results/`: `<network>-<containerID>-<ifname>`. */
export function cacheFileName(key: ResultCacheKey): string {
  const name = `${key.networkName}-${key.containerId}-${key.ifName}`;
  // The parts are validated upstream; this guards the file system against a caller that did not.
  if (name.includes('/') || name.includes('\0') || key.networkName === '' || key.containerId === '') {
    throw new CniError(
      CniErrorCode.InvalidNetworkConfig,
      `cannot build a cache file name from ${JSON.stringify(key)}`,
    );
  }
  return name;
}

export function encodeCacheRecord(record: ResultCacheRecord): string {
  const { kind, containerId, config, ifName, networkName, netns, cniArgs, capabilityArgs, result } = record;
  return JSON.stringify({
    kind,
    containerId,
    config,
    ifName,
    networkName,
    netns,
    cniArgs,
    capabilityArgs,
    result,
  });
}

/** Cache records embed the config (base64) and a result; allow more than a bare config. */
const MAX_RECORD_BYTES = 4 * 1024 * 1024;

/**
 * Decodes a cache file. A JSON value that is not a cniCacheV1 record is a pre-2019 bare result
 * (libcni getCachedResult): with a `key` it becomes a record for that key with no config;
 * without one (listing) it is skipped (undefined), as GetCachedAttachments skips it. Throws
 * CniError 6 when the text is not JSON at all or a cniCacheV1 record is malformed.
 */
export function decodeCacheRecord(text: string, key: ResultCacheKey): ResultCacheRecord;
export function decodeCacheRecord(text: string): ResultCacheRecord | undefined;
export function decodeCacheRecord(text: string, key?: ResultCacheKey): ResultCacheRecord | undefined {
  const value = parseBoundedJson(text, 'cached result', MAX_RECORD_BYTES, false);
  if (!isJsonObject(value) || value.kind !== 'cniCacheV1') {
    if (key === undefined) return undefined;
    return {
      kind: 'cniCacheV1',
      ...key,
      config: '',
      netns: '',
      cniArgs: [],
      capabilityArgs: {},
      result: value,
    };
  }
  const checked = v.safeParse(RECORD, value);
  if (!checked.success) {
    const field = String(checked.issues[0].path?.[0]?.key ?? 'record');
    throw new CniError(
      CniErrorCode.DecodingFailure,
      `cached result: field "${field}" is missing or malformed`,
    );
  }
  return { kind: 'cniCacheV1', ...checked.output, result: checked.output.result };
}

/** A JSON object (valibot's record takes an array for one). */
const jsonObject = v.custom<Record<string, unknown>>(isJsonObject);

/** A cniCacheV1 record as libcni writes it; a missing or null optional field takes libcni's zero value. */
const RECORD = v.object({
  containerId: v.string(),
  ifName: v.string(),
  networkName: v.string(),
  config: v.nullish(v.string(), ''),
  netns: v.nullish(v.string(), ''),
  cniArgs: v.nullish(v.array(v.strictTuple([v.string(), v.string()])), () => []),
  capabilityArgs: v.nullish(jsonObject, () => ({})),
  result: v.optional(v.unknown()),
});

/** Whether a listed record belongs in GetCachedAttachments' answer. */
export function isListableRecord(record: ResultCacheRecord, containerId?: string): boolean {
  if (record.ifName === '' || record.networkName === '' || record.containerId === '') return false;
  return containerId === undefined || record.containerId === containerId;
}
