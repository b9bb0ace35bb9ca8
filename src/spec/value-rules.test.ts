import { deepStrictEqual, ok } from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { dns1123LabelProblem, dns1123SubdomainProblem } from './dns-1123.ts';
import { infinibandGuidProblem, macAddressProblem } from './hardware-address.ts';
import { interfaceNameProblem } from '../names/interface-name.ts';
import { ipAddressProblem, ipOrCidrProblem, stripPrefixLength } from './ip-address.ts';
import { jsonNestingDepth } from '../json/json-nesting-depth.ts';
import { pluginTypeProblem } from '../names/plugin-type.ts';

const valid = (problem: string | undefined, what: string) => deepStrictEqual(problem, undefined, what);
const invalid = (problem: string | undefined, what: string) =>
  ok(problem !== undefined, `${what} should be invalid`);

describe('value rules', () => {
  it('DNS-1123 labels and subdomains', () => {
    for (const s of ['a', 'a-b', '0', 'a'.repeat(63)]) valid(dns1123LabelProblem(s), s);
    for (const s of ['', 'A', '-a', 'a-', 'a.b', 'a_b', 'a'.repeat(64)]) invalid(dns1123LabelProblem(s), s);
    for (const s of ['a.b', 'vm-1.net.eth1']) valid(dns1123SubdomainProblem(s), s);
    for (const s of ['', 'a..b', '.a', 'A.b', `${'a'.repeat(64)}.b`]) invalid(dns1123SubdomainProblem(s), s);
  });
  it('interface names (Linux dev_valid_name)', () => {
    for (const s of ['eth0', 'net1', 'Eth_1', 'a.b', '...', 'x'.repeat(15), 'é'.repeat(7)])
      valid(interfaceNameProblem(s), s);
    for (const s of ['', '.', '..', 'a/b', 'a:b', 'a b', 'a\tb', 'a\u0000', 'x'.repeat(16), 'é'.repeat(8)]) {
      invalid(interfaceNameProblem(s), JSON.stringify(s));
    }
  });
  it('IP addresses and CIDRs', () => {
    for (const s of ['10.0.0.1', '::', '::ffff:1.2.3.4', '2001:db8::1']) valid(ipAddressProblem(s), s);
    for (const s of ['', '010.0.0.1', '10.0.0.256', 'fe80::1%eth0', '10.0.0.1/8', ' 10.0.0.1'])
      invalid(ipAddressProblem(s), s);
    for (const s of ['10.0.0.1/0', '10.0.0.1/32', '2001:db8::1/128']) valid(ipOrCidrProblem(s), s);
    for (const s of [
      '10.0.0.1/33',
      '::1/129',
      '10.0.0.1/',
      '10.0.0.1/08',
      '10.0.0.1/+8',
      '10.0.0.1/8/8',
      '/8',
    ]) {
      invalid(ipOrCidrProblem(s), s);
    }
    deepStrictEqual(stripPrefixLength('2001:db8::1/64'), '2001:db8::1');
    deepStrictEqual(stripPrefixLength('10.0.0.1'), '10.0.0.1');
  });
  it('MAC addresses and InfiniBand GUIDs', () => {
    for (const s of ['00:11:22:33:44:55', 'AA-bb-CC-dd-EE-ff']) valid(macAddressProblem(s), s);
    for (const s of [
      '',
      '0011.2233.4455',
      '00:11:22:33:44',
      '00:11:22:33:44:55:66:77',
      '00:11-22:33:44:55',
      '0:11:22:33:44:55',
    ]) {
      invalid(macAddressProblem(s), s);
    }
    ok(macAddressProblem(Array(20).fill('00').join(':'))?.includes('v1.2'));
    valid(infinibandGuidProblem('00:11:22:33:44:55:66:77'), 'guid');
    invalid(infinibandGuidProblem('00:11:22:33:44:55'), 'short guid');
  });
  it('plugin types are plain file names', () => {
    for (const s of ['bridge', 'host-local', 'my.plugin', '...']) valid(pluginTypeProblem(s), s);
    for (const s of ['', '.', '..', '../bridge', '/usr/bin/sh', 'a/b', 'a\u0000b', 'a\nb', 'x'.repeat(256)]) {
      invalid(pluginTypeProblem(s), JSON.stringify(s));
    }
  });
  it('JSON nesting depth ignores brackets inside strings', () => {
    deepStrictEqual(jsonNestingDepth('{"a":[1,{"b":"[[[\\"{{"}]}'), 3);
    deepStrictEqual(jsonNestingDepth('1'), 0);
    fc.assert(
      fc.property(fc.json({ depthSize: 'medium' }), (text) => {
        const depthOf = (v: unknown): number =>
          typeof v === 'object' && v !== null ? 1 + Math.max(0, ...Object.values(v).map(depthOf)) : 0;
        deepStrictEqual(jsonNestingDepth(text), depthOf(JSON.parse(text)));
      }),
    );
  });
});
