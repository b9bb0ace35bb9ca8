import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  cniDeviceInfoFileName,
  devicePluginFileName,
  deviceIdProblem,
  parseDeviceInfo,
  resourceNameProblem,
} from './device-info.ts';
import { SpecError } from './spec-error.ts';

const parse = (v: unknown) =>
  parseDeviceInfo(typeof v === 'string' ? v : JSON.stringify(v), 'device-info file f');
const refused = (v: unknown, re: RegExp) =>
  assert.throws(
    () => parse(v),
    (e: unknown) => e instanceof SpecError && e.code === 'INVALID_DEVICE_INFO' && re.test(e.message),
  );

describe('parseDeviceInfo (device-info spec v1.1.0 §3)', () => {
  it("keeps the spec's keys of the example files and drops everything else", () => {
    assert.deepEqual(
      parse({
        type: 'pci',
        version: '1.1.0',
        pci: { 'pci-address': '0000:01:02.2', 'pf-pci-address': '0000:01:02.0', vendorSecret: 'x' },
        extra: { a: 1 },
        vdpa: { 'parent-device': 'vdpa3' },
      }),
      {
        type: 'pci',
        version: '1.1.0',
        pci: { 'pci-address': '0000:01:02.2', 'pf-pci-address': '0000:01:02.0' },
      },
    );
    assert.deepEqual(
      parse({
        type: 'vhost-user',
        version: '1.0.0',
        'vhost-user': { mode: 'server', path: '/var/run/vhost.sock' },
      }),
      {
        type: 'vhost-user',
        version: '1.0.0',
        'vhost-user': { mode: 'server', path: '/var/run/vhost.sock' },
      },
    );
    assert.equal(
      parse({
        type: 'vdpa',
        version: '1.1.0',
        vdpa: { 'parent-device': 'vdpa3', driver: 'vhost', path: '/dev/vhost-vdpa0' },
      }).type,
      'vdpa',
    );
    assert.equal(
      parse({
        type: 'memif',
        version: '1.1.0',
        memif: { role: 'master', path: '/run/m.sock', mode: 'ethernet' },
      }).type,
      'memif',
    );
  });

  it('refuses what is not a device-info map, saying which key and never quoting the file', () => {
    refused('not json {', /not JSON/);
    refused([], /must be a JSON object/);
    refused({ type: 'usb', version: '1.1.0' }, /key "type": must be one of pci, vdpa, vhost-user, memif/);
    refused({ type: 'pci', version: '2.0.0', pci: { 'pci-address': '0000:01:02.2' } }, /key "version"/);
    refused({ type: 'pci', version: '1.1.0' }, /must carry a "pci" map/);
    refused({ type: 'pci', version: '1.1.0', pci: {} }, /key "pci.pci-address": is required/);
    refused({ type: 'pci', version: '1.1.0', pci: { 'pci-address': '01:02.2' } }, /PCI address/);
    refused(
      { type: 'vdpa', version: '1.1.0', vdpa: { 'parent-device': 'v', driver: 'x', path: '/p' } },
      /vdpa.driver": must be one of vhost, virtio/,
    );
    refused(
      { type: 'pci', version: '1.1.0', pci: { 'pci-address': '0000:01:02.2', 'rdma-device': 'a\u001b[2J' } },
      /control characters/,
    );
    refused(
      { type: 'pci', version: '1.1.0', pci: { 'pci-address': '0000:01:02.2', 'vhost-net': 5 } },
      /non-empty string/,
    );
    refused(`{"type":"pci","pad":"${'x'.repeat(17 * 1024)}"}`, /the limit is 16384/);
    refused('[[[[[[1]]]]]]', /nested deeper/);
  });
});

describe('device-info file names (§4.1, §4.2)', () => {
  it('replaces "/" by "-" as the spec and Multus do', () => {
    assert.equal(
      devicePluginFileName('intel.com/sriov_netdevice', '0000:18:02.5'),
      'intel.com-sriov_netdevice-0000:18:02.5-device.json',
    );
    assert.equal(cniDeviceInfoFileName('ns1/net-a', 'c0ffee', 'net1'), 'ns1-net-a-c0ffee_net1');
  });
  it('a name too long for a file becomes its SHA-256', () => {
    assert.match(cniDeviceInfoFileName('ns/n', 'c'.repeat(300), 'net1'), /^[0-9a-f]{64}$/);
  });
});

describe('resource names and device IDs', () => {
  it('takes extended resource names only', () => {
    assert.equal(resourceNameProblem('intel.com/sriov_netdevice'), undefined);
    assert.equal(resourceNameProblem('vendor.example/nic.v2'), undefined);
    for (const bad of [
      'nic',
      'a/b/c',
      '../x',
      'Vendor.example/nic',
      'vendor.example/',
      'vendor.example/-x',
      '/nic',
    ])
      assert.ok(resourceNameProblem(bad), bad);
  });
  it('takes printable device IDs only', () => {
    assert.equal(deviceIdProblem('0000:18:02.5'), undefined);
    for (const bad of ['', '..', 'a\nb', 'x'.repeat(300)])
      assert.ok(deviceIdProblem(bad), JSON.stringify(bad));
  });
});
