import { createHash } from 'node:crypto';
import { jsonNestingDepth } from '../json/json-nesting-depth.ts';
import { SpecError } from './spec-error.ts';

/**
 * Device Information (k8snetworkplumbingwg device-info-spec v1.1.0, §3), the map a device plugin
 * or a CNI plugin writes to a device-info file and multinet copies into network-status
 * `device-info` (§6). These files are written by other software: they are read bounded in size,
 * checked against the spec's schema, and only the spec's keys are kept, so nothing else of a
 * file reaches an annotation that tenants read.
 */
export interface DeviceInfo {
  type: 'pci' | 'vdpa' | 'vhost-user' | 'memif';
  version: string;
  pci?: Record<string, string>;
  vdpa?: Record<string, string>;
  'vhost-user'?: Record<string, string>;
  memif?: Record<string, string>;
}

/** Device-info files are a few hundred bytes; anything near this is not one. */
export const DEVICE_INFO_MAX_BYTES = 16 * 1024;
const MAX_VALUE_LENGTH = 1024;
const BDF = /^[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$/;

type Rule = { required: boolean; values?: readonly string[]; pattern?: RegExp };

/** §3.1.3-3.1.6: the keys of each typed map; `required` as the spec marks them. */
const SCHEMA: Record<DeviceInfo['type'], Record<string, Rule>> = {
  pci: {
    'pci-address': { required: true, pattern: BDF },
    'vhost-net': { required: false },
    'rdma-device': { required: false },
    'pf-pci-address': { required: false, pattern: BDF },
    'representor-device': { required: false },
  },
  vdpa: {
    'parent-device': { required: true },
    driver: { required: true, values: ['vhost', 'virtio'] },
    path: { required: true },
    'pci-address': { required: false, pattern: BDF },
    'pf-pci-address': { required: false, pattern: BDF },
    'representor-device': { required: false },
  },
  'vhost-user': {
    mode: { required: true, values: ['client', 'server'] },
    path: { required: true },
  },
  memif: {
    role: { required: true, values: ['master', 'slave'] },
    path: { required: true },
    // The spec says "inject-punt"; the NAD client's constant says "punt": both are in use.
    mode: { required: true, values: ['ethernet', 'ip', 'inject-punt', 'punt'] },
  },
};

const TYPES = Object.keys(SCHEMA) as DeviceInfo['type'][];

/**
 * Reads a device-info file's text. `subject` names the file in errors; the file's content is
 * never quoted in them (it may not be a device-info file at all).
 */
export function parseDeviceInfo(text: string, subject: string): DeviceInfo {
  const fail = (key: string | undefined, reason: string): never => {
    throw new SpecError({ code: 'INVALID_DEVICE_INFO', subject, key, reason });
  };
  const bytes = Buffer.byteLength(text);
  if (bytes > DEVICE_INFO_MAX_BYTES)
    fail(undefined, `${bytes} bytes, the limit is ${DEVICE_INFO_MAX_BYTES}: not a device-info file`);
  if (jsonNestingDepth(text) > 4) fail(undefined, 'nested deeper than a device-info map');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return fail(undefined, 'not JSON');
  }
  if (!isObject(raw)) return fail(undefined, 'must be a JSON object');
  const type = raw['type'];
  if (typeof type !== 'string' || !(TYPES as string[]).includes(type))
    fail('type', `must be one of ${TYPES.join(', ')} (device-info spec §3.1.1)`);
  const version = raw['version'];
  if (typeof version !== 'string' || !/^1\.\d{1,4}\.\d{1,4}$/.test(version))
    fail('version', 'must be a 1.x.y version string (device-info spec §3.1.2)');
  const t = type as DeviceInfo['type'];
  const sub = raw[t];
  if (!isObject(sub)) return fail(t, `a device of type "${t}" must carry a "${t}" map`);
  const out: Record<string, string> = {};
  for (const [key, rule] of Object.entries(SCHEMA[t])) {
    const v = sub[key];
    if (v === undefined) {
      if (rule.required) fail(`${t}.${key}`, 'is required');
      continue;
    }
    if (typeof v !== 'string' || v === '' || v.length > MAX_VALUE_LENGTH)
      fail(`${t}.${key}`, `must be a non-empty string of at most ${MAX_VALUE_LENGTH} characters`);
    const s = v as string;
    // eslint-disable-next-line no-control-regex
    if (/[\x00-\x1f\x7f]/.test(s)) fail(`${t}.${key}`, 'must not contain control characters');
    if (rule.values && !rule.values.includes(s))
      fail(`${t}.${key}`, `must be one of ${rule.values.join(', ')}`);
    if (rule.pattern && !rule.pattern.test(s)) fail(`${t}.${key}`, 'must be a PCI address dddd:BB:DD.f');
    out[key] = s;
  }
  return { type: t, version: version as string, [t]: out };
}

/** The device-info text multinet writes: the checked map only. */
export function formatDeviceInfo(info: DeviceInfo): string {
  return JSON.stringify(info);
}

/**
 * The device plugin's file name for one device (device-info spec §4.1):
 * `<resourceName>-<deviceID>-device.json`, every `/` in either part replaced by `-`.
 */
export function devicePluginFileName(resourceName: string, deviceId: string): string {
  return `${resourceName.replaceAll('/', '-')}-${deviceId.replaceAll('/', '-')}-device.json`;
}

/**
 * The CNI device-info file name of one attachment (device-info spec §4.2: unique per attachment),
 * as Multus derives it: `<network>-<containerID>_<ifName>` with `/` replaced by `-`. Characters
 * outside `[A-Za-z0-9._-]` become `-` too, and a name longer than a file name may be is replaced by
 * its SHA-256 (still unique per attachment, just not readable).
 */
export function cniDeviceInfoFileName(network: string, containerId: string, ifName: string): string {
  const name = `${network}-${containerId}_${ifName}`.replace(/[^A-Za-z0-9._-]/g, '-');
  return name.length <= 255 ? name : createHash('sha256').update(name).digest('hex');
}

/**
 * Problems with an extended resource name (the NAD annotation `k8s.v1.cni.cncf.io/resourceName`):
 * Kubernetes accepts device-plugin resources as `<domain>/<name>` qualified names. The name ends up
 * in a file path and in the kubelet lookup, so anything else is refused.
 */
export function resourceNameProblem(name: string): string | undefined {
  const [prefix, rest, extra] = name.split('/');
  if (rest === undefined || extra !== undefined)
    return 'must be a device-plugin resource name of the form <domain>/<name>, e.g. "vendor.example/nic"';
  if (
    prefix!.length > 253 ||
    !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(prefix!)
  )
    return 'its domain part must be a DNS-1123 subdomain (lower case letters, digits, "-" and ".")';
  if (rest.length > 63 || !/^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(rest))
    return 'its name part must be at most 63 letters, digits, "-", "_" or ".", starting and ending alphanumeric';
  return undefined;
}

/**
 * Problems with a device ID as the kubelet reports it (chosen by a device plugin): it is injected
 * into delegate configs and names a file, so it must be printable and short.
 */
export function deviceIdProblem(id: string): string | undefined {
  if (id === '') return 'is empty';
  if (id.length > 256) return 'is longer than 256 characters';
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(id)) return 'contains control characters';
  if (id === '.' || id === '..') return 'is "." or ".."';
  return undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
