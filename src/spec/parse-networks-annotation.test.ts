import { deepStrictEqual, ok, throws } from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { formatNetworksAnnotation } from './format-networks-annotation.ts';
import type { NetworkSelectionElement } from './network-selection-element.ts';
import {
  NETWORKS_ANNOTATION_MAX_BYTES,
  NETWORKS_ANNOTATION_MAX_ELEMENTS,
  parseNetworksAnnotation,
} from './parse-networks-annotation.ts';
import { SpecError } from './spec-error.ts';

const POD_NS = 'pod-ns';
const parse = (value: string): NetworkSelectionElement[] => parseNetworksAnnotation(value, POD_NS);

function rejects(
  value: string,
  match: Partial<Pick<SpecError, 'element' | 'key' | 'code'>> & { reason?: RegExp },
) {
  throws(
    () => parse(value),
    (err: unknown) => {
      ok(err instanceof SpecError, `expected SpecError, got ${String(err)}`);
      if (match.element !== undefined) deepStrictEqual(err.element, match.element);
      if (match.key !== undefined) deepStrictEqual(err.key, match.key);
      deepStrictEqual(err.code, match.code ?? 'INVALID_NETWORKS_ANNOTATION');
      if (match.reason) ok(match.reason.test(err.reason), `reason ${err.reason} !~ ${String(match.reason)}`);
      return true;
    },
  );
}

describe('parseNetworksAnnotation: text form (NPWG v1 §4.1.2.1 examples)', () => {
  const accepted: [string, NetworkSelectionElement[]][] = [
    ['a', [{ name: 'a', namespace: POD_NS }]],
    [
      ' a , other/b@net5 ',
      [
        { name: 'a', namespace: POD_NS },
        { name: 'b', namespace: 'other', interface: 'net5' },
      ],
    ],
    ['ns / a @ eth1', [{ name: 'a', namespace: 'ns', interface: 'eth1' }]],
    // Multus accepts any Linux interface name here, the client checks it as a DNS label: we follow Multus.
    ['a@Eth_1', [{ name: 'a', namespace: POD_NS, interface: 'Eth_1' }]],
    [
      'net-a,net-a',
      [
        { name: 'net-a', namespace: POD_NS },
        { name: 'net-a', namespace: POD_NS },
      ],
    ],
    ['\tns/a\n', [{ name: 'a', namespace: 'ns' }]],
    ['', []],
    ['   ', []],
  ];
  for (const [input, expected] of accepted) {
    it(`accepts ${JSON.stringify(input)}`, () => deepStrictEqual(parse(input), expected));
  }

  // Where the client produces an element with an empty name or namespace, we refuse (docs/annotations.md).
  const refused: [string, number, RegExp][] = [
    ['a,,b', 1, /empty item/],
    ['a,', 1, /empty item/],
    [',a', 0, /empty item/],
    ['ns/', 0, /empty network name/],
    ['@eth1', 0, /empty network name/],
    ['/a', 0, /empty namespace/],
    ['a@', 0, /empty interface/],
    ['x/y/z', 0, /more than one '\/'/],
    ['a@b@c', 0, /more than one '@'/],
  ];
  for (const [input, element, reason] of refused) {
    it(`refuses ${JSON.stringify(input)}`, () => rejects(input, { element, reason }));
  }
  for (const [input, key] of [
    ['A', 'name'],
    ['net_1', 'name'],
    ['-a', 'name'],
    ['ns@x/net', 'namespace'],
    [`${'a'.repeat(64)}`, 'name'],
    ['a@eth0:1', 'interface'],
    ['a@abcdefghijklmnop', 'interface'],
    ['a@..', 'interface'],
  ] as const) {
    it(`refuses ${JSON.stringify(input)} at key ${key}`, () => rejects(input, { element: 0, key }));
  }

  it('names the element in the message', () => {
    throws(
      () => parse('good,Bad'),
      /^SpecError: networks annotation element 1 \("Bad"\): key "name" value "Bad": not a DNS-1123 label/,
    );
  });
});

describe('parseNetworksAnnotation: JSON form', () => {
  it('reads every v1.3 key', () => {
    const value = JSON.stringify([
      {
        name: 'full',
        namespace: 'other',
        ips: ['10.1.1.5/24', '2001:db8::5'],
        mac: 'c2:b0:57:49:47:f1',
        interface: 'data0',
        'default-route': ['10.1.1.1'],
        portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp', hostIP: '192.0.2.1' }],
        bandwidth: { ingressRate: 1000000, ingressBurst: 2000000, egressRate: 500000 },
        'cni-args': { foo: 'bar', nested: { n: [1, 2] } },
        'infiniband-guid': 'c2:b0:57:49:47:f1:00:01',
        'org.example.extension': { ignored: true },
      },
      { name: 'claimed', 'ipam-claim-reference': 'vm-a.claimed.net2' },
    ]);
    deepStrictEqual(parse(value), [
      {
        name: 'full',
        namespace: 'other',
        ips: ['10.1.1.5/24', '2001:db8::5'],
        mac: 'c2:b0:57:49:47:f1',
        interface: 'data0',
        defaultRoute: ['10.1.1.1'],
        portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp', hostIP: '192.0.2.1' }],
        bandwidth: { ingressRate: 1000000, ingressBurst: 2000000, egressRate: 500000 },
        cniArgs: { foo: 'bar', nested: { n: [1, 2] } },
        infinibandGuid: 'c2:b0:57:49:47:f1:00:01',
      },
      { name: 'claimed', namespace: POD_NS, ipamClaimReference: 'vm-a.claimed.net2' },
    ]);
  });

  it('fills an empty or null namespace with the pod namespace, treats null as unset', () => {
    deepStrictEqual(parse('[{"name":"a","namespace":""},{"name":"b","namespace":null,"mac":null}]'), [
      { name: 'a', namespace: POD_NS },
      { name: 'b', namespace: POD_NS },
    ]);
  });

  it('accepts an empty default-route (the attachment keeps its own gateway)', () => {
    deepStrictEqual(parse('[{"name":"a","default-route":[]}]'), [
      { name: 'a', namespace: POD_NS, defaultRoute: [] },
    ]);
  });

  it('reads the 2018 keys as aliases', () => {
    deepStrictEqual(
      parse(
        '[{"name":"a","interfaceRequest":"eth1","ipRequest":"10.0.0.2/24","macRequest":"02:00:00:00:00:01"}]',
      ),
      [{ name: 'a', namespace: POD_NS, interface: 'eth1', ips: ['10.0.0.2/24'], mac: '02:00:00:00:00:01' }],
    );
    deepStrictEqual(parse('[{"name":"a","interface":"eth1","interfaceRequest":"eth1"}]'), [
      { name: 'a', namespace: POD_NS, interface: 'eth1' },
    ]);
    rejects('[{"name":"a","interface":"eth2","interfaceRequest":"eth1"}]', {
      element: 0,
      key: 'interfaceRequest',
    });
    rejects('[{"name":"a","ips":["10.0.0.3"],"ipRequest":"10.0.0.2"}]', { element: 0, key: 'ipRequest' });
  });

  it('detects JSON like the Go client: any of [ { " anywhere', () => {
    rejects('{"name":"a"}', { reason: /must be a list/ });
    rejects('"a"', { reason: /must be a list/ });
    rejects('a,"b"', { reason: /not valid JSON/ });
    rejects('[{"name":"a"}', { reason: /not valid JSON/ });
  });

  const refused: [string, string | undefined, RegExp][] = [
    ['[1]', undefined, /JSON object/],
    ['[{}]', 'name', /missing/],
    ['[{"name":""}]', 'name', /empty/],
    ['[{"name":5}]', 'name', /string/],
    ['[{"name":"a","namespace":"Bad"}]', 'namespace', /DNS-1123/],
    ['[{"name":"a","deviceID":"x"}]', 'deviceID', /reserved for the spec/],
    // Names every object inherits are not the 2018 aliases: refused like any unknown key.
    ['[{"name":"a","constructor":1}]', 'constructor', /reserved for the spec/],
    ['[{"name":"a","toString":"x"}]', 'toString', /reserved for the spec/],
    ['[{"name":"a","__proto__":{}}]', '__proto__', /reserved for the spec/],
    ['[{"name":"a","ips":[]}]', 'ips', /at least one/],
    ['[{"name":"a","ips":"10.0.0.1"}]', 'ips', /list of strings/],
    ['[{"name":"a","ips":["10.0.0.256"]}]', 'ips[0]', /IPv4 or IPv6/],
    ['[{"name":"a","ips":["10.0.0.1/33"]}]', 'ips[0]', /prefix length/],
    ['[{"name":"a","ips":["fe80::1%eth0"]}]', 'ips[0]', /zone/],
    ['[{"name":"a","mac":"zz:11:22:33:44:55"}]', 'mac', /6-byte/],
    ['[{"name":"a","mac":"00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33"}]', 'mac', /v1\.2/],
    ['[{"name":"a","mac":"00:11-22:33:44:55"}]', 'mac', /6-byte/],
    ['[{"name":"a","infiniband-guid":"00:11:22:33:44:55"}]', 'infiniband-guid', /8-byte/],
    ['[{"name":"a","interface":"a/b"}]', 'interface', /'\/'/],
    ['[{"name":"a","interface":"a b"}]', 'interface', /whitespace/],
    ['[{"name":"a","interface":"."}]', 'interface', /"\."/],
    ['[{"name":"a","interface":"eth\\u0000"}]', 'interface', /control/],
    ['[{"name":"a","default-route":["10.0.0.0/24"]}]', 'default-route[0]', /bare addresses/],
    ['[{"name":"a","portMappings":[]}]', 'portMappings', /at least one/],
    [
      '[{"name":"a","portMappings":[{"hostPort":0,"containerPort":80}]}]',
      'portMappings[0].hostPort',
      /1 to 65535/,
    ],
    [
      '[{"name":"a","portMappings":[{"hostPort":80.5,"containerPort":80}]}]',
      'portMappings[0].hostPort',
      /integer/,
    ],
    ['[{"name":"a","portMappings":[{"hostPort":80}]}]', 'portMappings[0].containerPort', /missing/],
    [
      '[{"name":"a","portMappings":[{"hostPort":"80","containerPort":80}]}]',
      'portMappings[0].hostPort',
      /number/,
    ],
    [
      '[{"name":"a","portMappings":[{"hostPort":1,"containerPort":2,"protocol":"icmp"}]}]',
      'portMappings[0].protocol',
      /TCP/,
    ],
    [
      '[{"name":"a","portMappings":[{"hostPort":1,"containerPort":2,"hostIp":"1.2.3.4"}]}]',
      'portMappings[0].hostIp',
      /unknown/,
    ],
    ['[{"name":"a","bandwidth":{}}]', 'bandwidth', /at least one/],
    ['[{"name":"a","bandwidth":{"ingressRate":0}}]', 'bandwidth.ingressRate', /positive/],
    ['[{"name":"a","bandwidth":{"egressRate":-5}}]', 'bandwidth.egressRate', /positive/],
    ['[{"name":"a","bandwidth":{"egressBurst":5}}]', 'bandwidth.egressBurst', /egressRate/],
    ['[{"name":"a","bandwidth":{"ingressRate":1.5}}]', 'bandwidth.ingressRate', /integer/],
    ['[{"name":"a","cni-args":[1]}]', 'cni-args', /object/],
    ['[{"name":"a","ips":["10.0.0.1"],"ipam-claim-reference":"c"}]', 'ipam-claim-reference', /ips/],
    ['[{"name":"a","ipam-claim-reference":"Claim"}]', 'ipam-claim-reference', /subdomain/],
  ];
  for (const [input, key, reason] of refused) {
    it(`refuses ${input}`, () =>
      rejects(input, { element: 0, ...(key === undefined ? {} : { key }), reason }));
  }

  it('refuses a second default-route and duplicate interfaces (spec §4.1.2.1.5, §4.1.2.1.9)', () => {
    rejects('[{"name":"a","default-route":[]},{"name":"b","default-route":["10.0.0.1"]}]', {
      element: 1,
      key: 'default-route',
    });
    rejects('[{"name":"a","interface":"x"},{"name":"b","interface":"x"}]', { element: 1, key: 'interface' });
    rejects('a@x, b@x', { element: 1, key: 'interface' });
  });

  it('escapes and truncates hostile values in messages', () => {
    const evil = `\u001b[31m\u202e${'x'.repeat(500)}`;
    throws(
      () => parse(JSON.stringify([{ name: 'a', mac: evil }])),
      (err: Error) => {
        ok(!/[^\x20-\x7e]/.test(err.message), err.message);
        ok(err.message.length < 300, `${err.message.length}`);
        ok(err.message.includes('\\u001b[31m\\u202e'));
        return true;
      },
    );
  });
});

describe('parseNetworksAnnotation: limits', () => {
  it('refuses values over 256 KiB', () => {
    rejects(`a${' '.repeat(NETWORKS_ANNOTATION_MAX_BYTES)}`, { reason: /limit/ });
  });
  it('refuses more than 1000 elements in both forms', () => {
    const names = Array.from({ length: NETWORKS_ANNOTATION_MAX_ELEMENTS + 1 }, (_, i) => `n${i}`);
    rejects(names.join(','), { reason: /limit is 1000/ });
    rejects(JSON.stringify(names.map((name) => ({ name }))), { reason: /limit is 1000/ });
    deepStrictEqual(parse(names.slice(1).join(',')).length, NETWORKS_ANNOTATION_MAX_ELEMENTS);
  });
  it('refuses deep nesting in cni-args', () => {
    const deep = `${'['.repeat(100)}${']'.repeat(100)}`;
    rejects(`[{"name":"a","cni-args":{"x":${deep}}}]`, { reason: /deeper than 64/ });
  });
  it('refuses an invalid pod namespace', () => {
    throws(() => parseNetworksAnnotation('a', 'Not_A_Namespace'), /pod namespace "Not_A_Namespace"/);
  });
});

// ---- properties ----

const label = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?$/);
const ifName = fc.stringMatching(/^[A-Za-z0-9_.-]{1,15}$/).filter((s) => s !== '.' && s !== '..');
const hexByte = fc.integer({ min: 0, max: 255 }).map((n) => n.toString(16).padStart(2, '0'));
const hwAddress = (bytes: number) =>
  fc
    .tuple(fc.array(hexByte, { minLength: bytes, maxLength: bytes }), fc.constantFrom(':', '-'))
    .map(([b, sep]) => b.join(sep));
const ip = fc.oneof(fc.ipV4(), fc.ipV6());
const ipOrCidr = fc.oneof(
  ip,
  fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 32 })).map(([a, p]) => `${a}/${p}`),
  fc.tuple(fc.ipV6(), fc.integer({ min: 0, max: 128 })).map(([a, p]) => `${a}/${p}`),
);
const port = fc.integer({ min: 1, max: 65535 });
const positive = fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER });
const jsonObject = fc
  .dictionary(
    fc.string(),
    fc.json().map((t) => JSON.parse(t) as unknown),
    { maxKeys: 4 },
  )
  .map((o) => JSON.parse(JSON.stringify(o)) as Record<string, unknown>);

const fullElement: fc.Arbitrary<NetworkSelectionElement> = fc
  .record(
    {
      name: label,
      namespace: label,
      ips: fc.array(ipOrCidr, { minLength: 1, maxLength: 3 }),
      mac: hwAddress(6),
      interface: ifName,
      defaultRoute: fc.array(ip, { maxLength: 2 }),
      portMappings: fc.array(
        fc.record(
          {
            hostPort: port,
            containerPort: port,
            protocol: fc.constantFrom('TCP', 'udp', 'Sctp'),
            hostIP: ip,
          },
          { requiredKeys: ['hostPort', 'containerPort'], noNullPrototype: true },
        ),
        { minLength: 1, maxLength: 3 },
      ),
      bandwidth: fc.oneof(
        fc.record(
          { ingressRate: positive, ingressBurst: positive },
          { requiredKeys: ['ingressRate'], noNullPrototype: true },
        ),
        fc.record(
          { egressRate: positive, egressBurst: positive },
          { requiredKeys: ['egressRate'], noNullPrototype: true },
        ),
        fc.record(
          { ingressRate: positive, egressRate: positive, egressBurst: positive },
          { noNullPrototype: true },
        ),
      ),
      cniArgs: jsonObject,
      infinibandGuid: hwAddress(8),
      ipamClaimReference: fc.tuple(label, label).map(([a, b]) => `${a}.${b}`),
    },
    { requiredKeys: ['name', 'namespace'], noNullPrototype: true },
  )
  .map((e) => {
    if (e.ips !== undefined) delete e.ipamClaimReference;
    return e;
  });

/** The cross-element rules: unique interfaces, one default-route. */
function consistent(elements: NetworkSelectionElement[]): NetworkSelectionElement[] {
  const seen = new Set<string>();
  let routed = false;
  return elements.map((e) => {
    const copy = { ...e };
    if (copy.interface !== undefined) {
      if (seen.has(copy.interface)) delete copy.interface;
      else seen.add(copy.interface);
    }
    if (copy.defaultRoute !== undefined) {
      if (routed) delete copy.defaultRoute;
      routed = true;
    }
    return copy;
  });
}

function onlySpecErrors(run: () => unknown): void {
  try {
    run();
  } catch (err) {
    if (!(err instanceof SpecError)) throw err;
  }
}

describe('parseNetworksAnnotation: properties', () => {
  it('JSON form: format then parse gives the elements back', () => {
    fc.assert(
      fc.property(fc.array(fullElement, { maxLength: 5 }).map(consistent), (elements) => {
        deepStrictEqual(parse(formatNetworksAnnotation(elements, 'json')), elements);
      }),
    );
  });

  it('text form: format then parse gives the elements back', () => {
    const textElement = fc.record(
      { name: label, namespace: label, interface: ifName },
      { requiredKeys: ['name', 'namespace'], noNullPrototype: true },
    );
    fc.assert(
      fc.property(fc.array(textElement, { maxLength: 8 }).map(consistent), (elements) => {
        deepStrictEqual(parse(formatNetworksAnnotation(elements, 'text')), elements);
      }),
    );
  });

  it('any string either parses or throws SpecError', () => {
    const token = fc.constantFrom(
      'a',
      'ns',
      '/',
      '@',
      ',',
      ' ',
      '[',
      ']',
      '{',
      '}',
      '"',
      ':',
      'eth0',
      '1',
      'name',
      '\\',
      '\u0000',
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string({ unit: 'binary' }),
          fc.array(token).map((t) => t.join('')),
        ),
        (s) => onlySpecErrors(() => parse(s)),
      ),
      { numRuns: 2000 },
    );
  });

  it('any JSON list of objects with spec keys either parses or throws SpecError', () => {
    const key = fc.constantFrom(
      'name',
      'namespace',
      'ips',
      'mac',
      'interface',
      'default-route',
      'portMappings',
      'bandwidth',
      'cni-args',
      'infiniband-guid',
      'ipam-claim-reference',
      'interfaceRequest',
      'ipRequest',
      'macRequest',
      'x.y',
      '__proto__',
    );
    const value = fc.oneof(
      fc.json().map((t) => JSON.parse(t) as unknown),
      label,
      ip,
    );
    fc.assert(
      fc.property(fc.array(fc.dictionary(key, value)), (list) =>
        onlySpecErrors(() => parse(JSON.stringify(list))),
      ),
      { numRuns: 2000 },
    );
  });

  it('every parsed element has a namespace', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.option(label), label)), (pairs) => {
        const text = pairs.map(([ns, name]) => (ns === null ? name : `${ns}/${name}`)).join(',');
        for (const e of parse(text)) ok(e.namespace.length > 0);
      }),
    );
  });
});

describe('parseNetworksAnnotation: one whitespace rule (Go strings.TrimSpace)', () => {
  it('trims NEL and no-break space like any space, and refuses a BOM as part of a name', () => {
    deepStrictEqual(
      parseNetworksAnnotation('\u0085net-a\u00a0, ns2/net-b\u0085', 'ns1').map(
        (e) => `${e.namespace}/${e.name}`,
      ),
      ['ns1/net-a', 'ns2/net-b'],
    );
    throws(() => parseNetworksAnnotation('\ufeffnet-a', 'ns1'), SpecError);
    throws(() => parseNetworksAnnotation('net-a\ufeff', 'ns1'), SpecError);
    deepStrictEqual(parseNetworksAnnotation(' \u0085\t', 'ns1'), [], 'blank by the same rule');
  });
});
