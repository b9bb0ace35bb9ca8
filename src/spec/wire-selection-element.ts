import * as v from 'valibot';
import { issuePath, present } from '../json/schema-issue.ts';
import type { Bandwidth, NetworkSelectionElement, PortMapping } from './network-selection-element.ts';
import { SELECTION_WIRE_KEYS } from './network-selection-element.ts';
import { SpecError } from './spec-error.ts';

/**
 * The JSON form of one selection element (spec §4.1.2) ⇄ NetworkSelectionElement. This layer checks
 * shapes and types only; value rules live in validate-network-selection.ts.
 *
 * - Keys without a '.' are reserved for the spec (§4.1.2.1): an unknown one is refused, since it is
 *   either a typo or a newer feature we would otherwise silently not provide.
 * - Keys with a '.' are implementation extensions (reverse-DNS, §4.1.2.1) and are ignored.
 * - `null` for an optional key means "not set", as in the Go client.
 * - 2018 proof-of-concept keys are aliases (docs/annotations.md, "the 2018 Network"): interfaceRequest → interface,
 *   ipRequest (string or list) → ips, macRequest → mac. Both spellings with different values is an error.
 */

const KNOWN_KEYS = new Set<string>(Object.values(SELECTION_WIRE_KEYS));
const LEGACY_ALIASES = { interfaceRequest: 'interface', ipRequest: 'ips', macRequest: 'mac' } as const;

type Raw = Record<string, unknown>;

export function fromWireSelectionElement(
  raw: unknown,
  index: number,
  podNamespace: string,
): NetworkSelectionElement {
  const checked = v.safeParse(ELEMENT, raw, { abortEarly: true });
  if (checked.success) {
    const { name, namespace, rest } = checked.output;
    return { name, namespace: namespace || podNamespace, ...rest };
  }
  const issue = checked.issues[0];
  const key = issuePath(issue);
  throw new SpecError({
    code: 'INVALID_NETWORKS_ANNOTATION',
    subject: 'networks annotation',
    element: index,
    elementName: isObject(raw) && typeof raw.name === 'string' && raw.name !== '' ? raw.name : undefined,
    key,
    value: issue.input,
    reason: issue.message,
  });
}

/** The element as the JSON list form writes it; `namespace` is always written. */
export function toWireSelectionElement(element: NetworkSelectionElement): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [field, wireKey] of Object.entries(SELECTION_WIRE_KEYS)) {
    const value = element[field as keyof NetworkSelectionElement];
    if (value !== undefined) out[wireKey] = value;
  }
  return out;
}

/*
 * The schemas. A message is the SpecError's `reason`, the issue's path its key in wire spelling
 * (`portMappings[0].hostPort`) and the issue's input its value. Only the first issue counts
 * (abortEarly), so the checks are declared in the order the spec's keys are read: unknown keys
 * first, then the 2018 aliases, then each key in SELECTION_WIRE_KEYS order.
 */
const STRING = 'must be a string';
const NUMBER = 'must be a number';
const string = v.string(STRING);
const number = v.number(NUMBER);

/** A whole value of this shape, else one issue for the value with this message (not per item). */
function whole<S extends v.GenericSchema>(schema: S, message: string) {
  return v.custom<v.InferOutput<S>>((input) => v.is(schema, input), message);
}

const strings = v.pipe(
  whole(v.array(v.string()), 'must be a list of strings'),
  v.transform((list) => [...list]),
);
const cniArgs = v.custom<Record<string, unknown>>(isObject, 'must be a JSON object');

/** An object holding only the allowed keys; an unknown one is refused by name, before any value. */
function closed<const E extends v.ObjectEntries>(entries: E, notObject: string, missing: string) {
  const allowed = Object.keys(entries);
  return v.pipe(
    v.custom<Raw>(isObject, notObject),
    v.rawCheck(({ dataset, addIssue }) => {
      if (!dataset.typed) return;
      const unknown = Object.keys(dataset.value).find((k) => !allowed.includes(k));
      if (unknown === undefined) return;
      addIssue({
        input: undefined,
        message: `unknown key (expected ${allowed.join(', ')})`,
        path: [{ type: 'object', origin: 'key', input: dataset.value, key: unknown, value: undefined }],
      });
    }),
    v.object(entries, missing),
    v.transform(present),
  );
}

const PORT_MAPPING = closed(
  { hostPort: number, containerPort: number, protocol: v.nullish(string), hostIP: v.nullish(string) },
  'must be an object with hostPort and containerPort',
  'missing',
) satisfies v.GenericSchema<unknown, PortMapping>;

const BANDWIDTH = closed(
  {
    ingressRate: v.nullish(number),
    ingressBurst: v.nullish(number),
    egressRate: v.nullish(number),
    egressBurst: v.nullish(number),
  },
  'must be an object',
  'must be an object',
) satisfies v.GenericSchema<unknown, Bandwidth>;

/**
 * The element's keys after `null` values are dropped and the 2018 aliases are folded into the
 * keys they spell; `name` is the only required one. Reverse-DNS keys are not read.
 */
const FIELDS = v.object(
  {
    name: string,
    namespace: v.optional(string),
    ips: v.optional(strings),
    mac: v.optional(string),
    interface: v.optional(string),
    'default-route': v.optional(strings),
    portMappings: v.optional(v.array(PORT_MAPPING, 'must be a list of objects')),
    bandwidth: v.optional(BANDWIDTH),
    'cni-args': v.optional(cniArgs),
    'infiniband-guid': v.optional(string),
    'ipam-claim-reference': v.optional(string),
  } satisfies Record<(typeof SELECTION_WIRE_KEYS)[keyof typeof SELECTION_WIRE_KEYS], v.GenericSchema>,
  'missing; every element must name a network',
);

const ELEMENT = v.pipe(
  v.custom<Raw>(isObject, 'must be a JSON object such as {"name": "my-net"}'),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const raw = dataset.value;
    for (const key of Object.keys(raw)) {
      if (raw[key] === null || KNOWN_KEYS.has(key) || Object.hasOwn(LEGACY_ALIASES, key) || key.includes('.'))
        continue;
      addIssue({
        input: undefined,
        message:
          'unknown key (keys without a "." are reserved for the spec; extensions use reverse-DNS names)',
        path: [{ type: 'object', origin: 'key', input: raw, key, value: raw[key] }],
      });
      return;
    }
  }),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const raw = dataset.value;
    for (const [legacy, modern] of Object.entries(LEGACY_ALIASES)) {
      const value = legacyValue(raw, legacy);
      const current = raw[modern];
      if (value === undefined || current === undefined || current === null) continue;
      if (JSON.stringify(current) === JSON.stringify(value)) continue;
      addIssue({
        input: raw[legacy],
        message: `conflicts with "${modern}" (it is the 2018 spelling of the same key)`,
        path: [{ type: 'object', origin: 'value', input: raw, key: legacy, value: raw[legacy] }],
      });
      return;
    }
  }),
  v.transform((raw) => {
    const fields: Raw = {};
    for (const key of Object.keys(raw)) if (raw[key] !== null && KNOWN_KEYS.has(key)) fields[key] = raw[key];
    for (const [legacy, modern] of Object.entries(LEGACY_ALIASES)) {
      const value = legacyValue(raw, legacy);
      if (value !== undefined) fields[modern] = value;
    }
    return fields;
  }),
  FIELDS,
  v.transform((f) => ({
    name: f.name,
    namespace: f.namespace,
    rest: present({
      ips: f.ips,
      mac: f.mac,
      interface: f.interface,
      defaultRoute: f['default-route'],
      portMappings: f.portMappings,
      bandwidth: f.bandwidth,
      cniArgs: f['cni-args'],
      infinibandGuid: f['infiniband-guid'],
      ipamClaimReference: f['ipam-claim-reference'],
    }),
  })),
);

/** A 2018 key's value as the key it spells would hold it (a single `ipRequest` becomes a list). */
function legacyValue(raw: Raw, legacy: string): unknown {
  if (!Object.hasOwn(raw, legacy) || raw[legacy] === null) return undefined;
  return legacy === 'ipRequest' && typeof raw[legacy] === 'string' ? [raw[legacy]] : raw[legacy];
}

function isObject(value: unknown): value is Raw {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
