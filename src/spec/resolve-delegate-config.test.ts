import { deepStrictEqual, ok, throws } from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { NetworkDefinition } from './network-definition.ts';
import type { ConfFile } from './resolve-delegate-config.ts';
import { DELEGATE_CONFIG_MAX_BYTES, resolveDelegateConfig } from './resolve-delegate-config.ts';
import { SpecError } from './spec-error.ts';

const def = (config?: string): NetworkDefinition => ({
  kind: 'NetworkAttachmentDefinition',
  namespace: 'ns',
  name: 'net-a',
  ...(config === undefined ? {} : { config }),
});
const file = (path: string, content: unknown): ConfFile => ({
  path,
  content: typeof content === 'string' ? content : JSON.stringify(content),
});
const failsWith = (run: () => unknown, code: SpecError['code'], key: string | undefined, reason: RegExp) =>
  throws(run, (err: unknown) => {
    ok(err instanceof SpecError, String(err));
    deepStrictEqual([err.code, err.key], [code, key]);
    ok(reason.test(err.message), err.message);
    return true;
  });

describe('resolveDelegateConfig: spec.config (spec §3.4.1 step 1)', () => {
  it('keeps the raw text of a conf that has a name', () => {
    const text = '{ "cniVersion": "1.0.0", "name": "other", "type": "bridge", "x": 1.0 }';
    deepStrictEqual(resolveDelegateConfig(def(text), []), {
      network: 'ns/net-a',
      configText: text,
      source: 'spec',
      isList: false,
    });
  });
  it('injects the definition name into a conf or conflist without one (§3.4.2)', () => {
    deepStrictEqual(
      resolveDelegateConfig(def('{"cniVersion":"0.3.0","type":"awesome-plugin"}'), []).configText,
      '{"name":"net-a","cniVersion":"0.3.0","type":"awesome-plugin"}',
    );
    const list = resolveDelegateConfig(
      def('{"cniVersion":"1.0.0","plugins":[{"type":"bridge"},{"type":"tuning"}]}'),
      [],
    );
    deepStrictEqual(list.isList, true);
    deepStrictEqual(JSON.parse(list.configText).name, 'net-a');
  });
  it('prefers spec.config over files', () => {
    const files = [file('/d/a.conflist', { name: 'net-a', plugins: [{ type: 'x' }] })];
    deepStrictEqual(resolveDelegateConfig(def('{"type":"bridge"}'), files).source, 'spec');
  });
  it('refuses plugin types that are not plain file names, in every plugin', () => {
    failsWith(
      () => resolveDelegateConfig(def('{"plugins":[{"type":"bridge"},{"type":"../../tmp/x"}]}'), []),
      'INVALID_NETWORK_CONFIG',
      'spec.config.plugins[1].type',
      /plain file name/,
    );
    failsWith(
      () => resolveDelegateConfig(def('{"type":"/bin/sh"}'), []),
      'INVALID_NETWORK_CONFIG',
      'spec.config.type',
      /plain/,
    );
    failsWith(
      () => resolveDelegateConfig(def('{"type":".."}'), []),
      'INVALID_NETWORK_CONFIG',
      'spec.config.type',
      /"\.\."/,
    );
  });
  it('refuses malformed configs with the field at fault', () => {
    const cases: [string, string, RegExp][] = [
      ['not json', 'spec.config', /not valid JSON/],
      ['[1]', 'spec.config', /JSON object/],
      ['{}', 'spec.config.type', /missing/],
      ['{"type":5}', 'spec.config.type', /string/],
      ['{"type":"x","name":5}', 'spec.config.name', /string/],
      ['{"type":"x","cniVersion":1}', 'spec.config.cniVersion', /string/],
      ['{"plugins":[]}', 'spec.config.plugins', /non-empty/],
      ['{"plugins":{"type":"x"}}', 'spec.config.plugins', /non-empty list/],
      ['{"plugins":[1]}', 'spec.config.plugins[0]', /object/],
      ['{"plugins":[{}]}', 'spec.config.plugins[0].type', /missing/],
      [`{"type":"x","a":${'['.repeat(65)}${']'.repeat(65)}}`, 'spec.config', /deeper than 64/],
      [`{"type":"x","pad":"${'x'.repeat(DELEGATE_CONFIG_MAX_BYTES)}"}`, 'spec.config', /limit/],
    ];
    for (const [text, key, reason] of cases)
      failsWith(() => resolveDelegateConfig(def(text), []), 'INVALID_NETWORK_CONFIG', key, reason);
  });
});

describe('resolveDelegateConfig: files (spec §3.4.1 steps 2-4)', () => {
  const conf = file('/etc/cni/multus/net.d/00-a.conf', {
    cniVersion: '0.3.1',
    name: 'net-a',
    type: 'macvlan',
  });
  const list = file('/etc/cni/multus/net.d/10-a.conflist', {
    cniVersion: '1.0.0',
    name: 'net-a',
    plugins: [{ type: 'bridge' }],
  });

  it('prefers a conflist to a conf, whatever the directory order (unlike the Go client)', () => {
    const got = resolveDelegateConfig(def(), [conf, list]);
    deepStrictEqual(got, {
      network: 'ns/net-a',
      configText: list.content,
      source: 'file',
      sourcePath: list.path,
      isList: true,
    });
  });
  it('falls back to a conf or json file, in path order', () => {
    const json = file('/etc/cni/multus/net.d/05-a.json', { name: 'net-a', type: 'host-device' });
    deepStrictEqual(resolveDelegateConfig(def(), [conf, json]).sourcePath, conf.path);
    deepStrictEqual(resolveDelegateConfig(def(), [json]).isList, false);
  });
  it('skips unreadable files and other names, and ignores other extensions', () => {
    const files = [
      file('/d/00-broken.conflist', '{oops'),
      file('/d/01-other.conflist', { name: 'other', plugins: [{ type: 'x' }] }),
      file('/d/02-a.conflist.bak', list.content),
      file('/d/03-array.conf', '[]'),
      conf,
    ];
    deepStrictEqual(resolveDelegateConfig(def(), files).sourcePath, conf.path);
  });
  it('refuses a matching file that is malformed', () => {
    failsWith(
      () =>
        resolveDelegateConfig(def(), [file('/d/a.conflist', { name: 'net-a', plugins: [{ type: 'a/b' }] })]),
      'INVALID_NETWORK_CONFIG',
      'plugins[0].type',
      /CNI configuration file \/d\/a\.conflist \(for ns\/net-a\)/,
    );
    failsWith(
      () => resolveDelegateConfig(def(), [file('/d/a.conf', { name: 'net-a', plugins: [{ type: 'x' }] })]),
      'INVALID_NETWORK_CONFIG',
      'type',
      /\.conflist/,
    );
    failsWith(
      () => resolveDelegateConfig(def(), [file('/d/a.conflist', { name: 'net-a', type: 'x' })]),
      'INVALID_NETWORK_CONFIG',
      'plugins',
      /missing/,
    );
  });
  it('reports the network, the directory and skipped files when nothing matches', () => {
    const files = [
      file('/d/bad.conf', '{"name": "net-a", oops'),
      file('/d/other.conf', { name: 'b', type: 'x' }),
    ];
    throws(
      () => resolveDelegateConfig(def(), files, { confDir: '/d' }),
      (err: unknown) => {
        ok(err instanceof SpecError);
        deepStrictEqual(err.code, 'NETWORK_CONFIG_NOT_FOUND');
        deepStrictEqual(err.retryable, true);
        ok(err.message.startsWith('NetworkAttachmentDefinition ns/net-a: has no spec.config'), err.message);
        ok(err.message.includes('in /d (2 .conflist/.conf/.json files looked at)'), err.message);
        ok(err.message.includes('/d/bad.conf: not valid JSON'), err.message);
        return true;
      },
    );
    throws(() => resolveDelegateConfig(def(), []), /found in the CNI configuration directory \(0/);
  });
});

describe('resolveDelegateConfig: properties', () => {
  it('any spec.config either resolves to a named config or throws SpecError', () => {
    const plugin = fc.record(
      { type: fc.oneof(fc.constantFrom('bridge', '../x', ''), fc.jsonValue()) },
      { requiredKeys: [] },
    );
    const config = fc.record(
      {
        cniVersion: fc.oneof(fc.constant('1.0.0'), fc.jsonValue()),
        name: fc.oneof(fc.constantFrom('', 'n'), fc.jsonValue()),
        type: fc.oneof(fc.constantFrom('macvlan', 'a/b'), fc.jsonValue()),
        plugins: fc.oneof(fc.array(plugin, { maxLength: 3 }), fc.jsonValue()),
      },
      { requiredKeys: [] },
    );
    const text = fc.oneof(
      config.map((c) => JSON.stringify(c)),
      config.map((c) => JSON.stringify(c, null, 2)),
      fc.string(),
      fc.json(),
    );
    fc.assert(
      fc.property(text, (t) => {
        try {
          const got = resolveDelegateConfig(def(t), []);
          const parsed = JSON.parse(got.configText) as { name: unknown };
          ok(typeof parsed.name === 'string' && parsed.name !== '');
        } catch (err) {
          if (!(err instanceof SpecError)) throw err;
        }
      }),
      { numRuns: 2000 },
    );
  });
});
