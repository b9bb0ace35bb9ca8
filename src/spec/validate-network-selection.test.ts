import { doesNotThrow, throws } from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpecError } from './spec-error.ts';
import { validateNetworkSelection, validateNetworkSelections } from './validate-network-selection.ts';

const is = (key: string, element: number) => (err: unknown) =>
  err instanceof SpecError &&
  err.key === key &&
  err.element === element &&
  err.code === 'INVALID_NETWORKS_ANNOTATION';

describe('validateNetworkSelections', () => {
  it('refuses the default network interface (spec §4.1.2.1.5)', () => {
    const elements = [{ name: 'a', namespace: 'ns', interface: 'eth0' }];
    throws(() => validateNetworkSelections(elements, { defaultInterface: 'eth0' }), is('interface', 0));
    doesNotThrow(() => validateNetworkSelections(elements, { defaultInterface: 'eth1' }));
    doesNotThrow(() => validateNetworkSelections(elements));
  });
  it('allows the same network twice on different interfaces (spec §4.2)', () => {
    doesNotThrow(() =>
      validateNetworkSelections([
        { name: 'a', namespace: 'ns' },
        { name: 'a', namespace: 'ns', interface: 'x' },
      ]),
    );
  });
  it('refuses a duplicate interface and a second default-route', () => {
    throws(
      () =>
        validateNetworkSelections([
          { name: 'a', namespace: 'ns', interface: 'x' },
          { name: 'b', namespace: 'ns', interface: 'x' },
        ]),
      is('interface', 1),
    );
    throws(
      () =>
        validateNetworkSelections([
          { name: 'a', namespace: 'ns', defaultRoute: [] },
          { name: 'b', namespace: 'ns' },
          { name: 'c', namespace: 'ns', defaultRoute: ['fd00::1'] },
        ]),
      is('default-route', 2),
    );
  });
});

describe('validateNetworkSelection', () => {
  it('checks values of elements built in code too', () => {
    throws(() => validateNetworkSelection({ name: 'a', namespace: 'ns', ips: ['nope'] }, 3), is('ips[0]', 3));
    throws(
      () =>
        validateNetworkSelection(
          { name: 'a', namespace: 'ns', portMappings: [{ hostPort: 1, containerPort: 70000 }] },
          0,
        ),
      is('portMappings[0].containerPort', 0),
    );
    throws(
      () =>
        validateNetworkSelection(
          { name: 'a', namespace: 'ns', cniArgs: null as unknown as Record<string, unknown> },
          0,
        ),
      is('cni-args', 0),
    );
    doesNotThrow(() =>
      validateNetworkSelection(
        {
          name: 'a',
          namespace: 'ns',
          ips: ['10.0.0.1/8', '::1'],
          mac: 'AA-BB-CC-DD-EE-FF',
          infinibandGuid: '00:11:22:33:44:55:66:77',
        },
        0,
      ),
    );
  });
  it('refuses an IPv4-mapped IPv6 default-route gateway, naming the IPv4 one to write', () => {
    throws(
      () => validateNetworkSelection({ name: 'a', namespace: 'ns', defaultRoute: ['::ffff:192.0.2.1'] }, 0),
      (e: unknown) => e instanceof SpecError && /IPv4-mapped.*192\.0\.2\.1 instead/.test(e.message),
    );
    doesNotThrow(() =>
      validateNetworkSelection({ name: 'a', namespace: 'ns', defaultRoute: ['2001:db8::1'] }, 0),
    );
  });
});
