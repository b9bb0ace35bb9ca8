import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseNetworkConfig } from './network-config.ts';
import { buildPluginRequestConfig } from './plugin-config-request.ts';
import type { CniResult } from './result.ts';

const list = parseNetworkConfig(
  JSON.stringify({
    cniVersion: '0.4.0',
    cniVersions: ['1.0.0'],
    name: 'net',
    plugins: [
      {
        type: 'bridge',
        name: 'own',
        cniVersion: '0.3.1',
        future: { a: [1, 2] },
        args: { cni: { ips: ['10.1.0.9'] } },
      },
      {
        type: 'portmap',
        capabilities: { portMappings: true, bandwidth: true, mac: false },
        runtimeConfig: { portMappings: [{ hostPort: 1 }] },
        'cni.dev/valid-attachments': 'admin-written',
      },
    ],
  }),
);
const [bridge, portmap] = list.plugins as [(typeof list.plugins)[0], (typeof list.plugins)[0]];
const prev: CniResult = { cniVersion: '1.0.0', ips: [{ address: '10.1.0.5/24' }] };

test('injects name and the selected version; keeps unknown fields and args', () => {
  const out = buildPluginRequestConfig(bridge, { name: 'net', cniVersion: '1.0.0' });
  assert.deepEqual(out, {
    type: 'bridge',
    name: 'net',
    cniVersion: '1.0.0',
    future: { a: [1, 2] },
    args: { cni: { ips: ['10.1.0.9'] } },
  });
  assert.equal(bridge.raw.cniVersion, '0.3.1', 'the parsed config is not mutated');
});

test('runtimeConfig holds only declared-true capabilities the caller supplied; capabilities is not sent', () => {
  const out = buildPluginRequestConfig(portmap, {
    name: 'net',
    cniVersion: '1.0.0',
    prevResult: prev,
    capabilityArgs: {
      portMappings: [{ hostPort: 8080, containerPort: 80 }],
      mac: 'c2:11:22:33:44:55',
      ips: ['x'],
    },
  });
  assert.deepEqual(out.runtimeConfig, { portMappings: [{ hostPort: 8080, containerPort: 80 }] });
  assert.equal('capabilities' in out, false);
  assert.equal('cni.dev/valid-attachments' in out, false, 'reserved keys written by an admin are dropped');
  assert.deepEqual(out.prevResult, prev);
  const other = buildPluginRequestConfig(bridge, {
    name: 'net',
    cniVersion: '1.0.0',
    capabilityArgs: { portMappings: [] },
  });
  assert.equal('runtimeConfig' in other, false, 'undeclared capabilities never reach a plugin');
});

test('a static runtimeConfig stays when no capability applies (libcni)', () => {
  const out = buildPluginRequestConfig(portmap, {
    name: 'net',
    cniVersion: '1.0.0',
    capabilityArgs: { mac: 'x' },
  });
  assert.deepEqual(out.runtimeConfig, { portMappings: [{ hostPort: 1 }] });
});

test('GC gets valid attachments under both keys and no prevResult', () => {
  const out = buildPluginRequestConfig(portmap, {
    name: 'net',
    cniVersion: '1.1.0',
    validAttachments: [{ containerId: 'c1', ifName: 'eth0' }],
  });
  const expected = [{ containerID: 'c1', ifname: 'eth0' }];
  assert.deepEqual(out['cni.dev/valid-attachments'], expected);
  assert.deepEqual(out['cni.dev/attachments'], expected);
  assert.equal('prevResult' in out, false);
  const empty = buildPluginRequestConfig(portmap, { name: 'net', cniVersion: '1.1.0', validAttachments: [] });
  assert.deepEqual(empty['cni.dev/valid-attachments'], [], 'an empty list is sent, not omitted');
});

test('property: every field except capabilities, cni.dev/* and the injected ones passes through unchanged', () => {
  const key = fc
    .string()
    .filter((k) => !['name', 'cniVersion', 'prevResult', 'runtimeConfig', 'type'].includes(k));
  fc.assert(
    fc.property(
      fc.dictionary(key, fc.jsonValue()),
      fc.dictionary(fc.string(), fc.boolean()),
      (extra, caps) => {
        const plugin = parseNetworkConfig(
          JSON.stringify({ name: 'n', type: 't', ...extra, capabilities: caps }),
        ).plugins[0];
        assert.ok(plugin);
        const out = buildPluginRequestConfig(plugin, {
          name: 'n',
          cniVersion: '1.0.0',
          capabilityArgs: { a: 1 },
        });
        const parsedOut = JSON.parse(JSON.stringify(out)) as Record<string, unknown>;
        for (const [k, v] of Object.entries(extra)) {
          if (k === 'capabilities' || k.startsWith('cni.dev/'))
            assert.equal(Object.hasOwn(parsedOut, k), false);
          else assert.deepEqual(parsedOut[k], JSON.parse(JSON.stringify(v)), k);
        }
        if (caps.a === true) assert.deepEqual(out.runtimeConfig, { a: 1 });
        else assert.equal('runtimeConfig' in out, false);
      },
    ),
  );
});
