import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FileDeviceInfoStore } from './file-device-info-store.ts';

const NIC = 'vendor.example/nic';
const PCI = { type: 'pci', version: '1.1.0', pci: { 'pci-address': '0000:18:02.5' } };

describe('FileDeviceInfoStore', () => {
  let tmp: string;
  let store: FileDeviceInfoStore;
  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'mn-devinfo-'));
    store = new FileDeviceInfoStore(join(tmp, 'devinfo'));
    await mkdir(store.dpDir, { recursive: true });
  });
  after(() => rm(tmp, { recursive: true, force: true }));

  it("copies the device plugin's file into a root-only CNI dir, reads it back, removes it", async () => {
    await writeFile(
      join(store.dpDir, 'vendor.example-nic-d1-device.json'),
      JSON.stringify({ ...PCI, junk: 1 }),
      { mode: 0o444 },
    );
    const file = join(store.cniDir, 'ns1-net-c1_net1');
    const prepared = await store.prepare(file, { resourceName: NIC, deviceId: 'd1' });
    assert.deepEqual(prepared.info, PCI);
    assert.equal((await stat(store.cniDir)).mode & 0o777, 0o700);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), PCI, 'only the checked map is written');
    assert.deepEqual(await store.read(file), PCI);
    await store.remove(file);
    assert.equal(await store.read(file), undefined);
  });

  it('a device without a plugin file gets none; a stale CNI file is removed first', async () => {
    const file = join(store.cniDir, 'ns1-net-c2_net1');
    await writeFile(file, JSON.stringify(PCI));
    assert.deepEqual(await store.prepare(file, { resourceName: NIC, deviceId: 'none' }), {});
    assert.equal(await store.read(file), undefined);
  });

  it('reports a plugin file it will not trust instead of using it', async () => {
    await writeFile(
      join(store.dpDir, 'vendor.example-nic-bad-device.json'),
      '{"type":"usb","version":"1.0.0"}',
    );
    await writeFile(join(store.dpDir, 'vendor.example-nic-open-device.json'), JSON.stringify(PCI));
    await chmod(join(store.dpDir, 'vendor.example-nic-open-device.json'), 0o666);
    await symlink('/etc/passwd', join(store.dpDir, 'vendor.example-nic-link-device.json'));
    const file = join(store.cniDir, 'ns1-net-c3_net1');
    const cases: [string, RegExp][] = [
      ['bad', /key "type": must be one of/],
      ['open', /writable by group or others/],
      ['link', /symbolic link/],
    ];
    for (const [id, re] of cases) {
      const r = await store.prepare(file, { resourceName: NIC, deviceId: id });
      assert.equal(r.info, undefined, id);
      assert.match(r.problem ?? '', re, id);
    }
    assert.equal(await store.read(file), undefined);
  });

  it('touches nothing outside its CNI directory, whatever a plan names', async () => {
    await assert.rejects(store.remove('/etc/passwd'), /not a file of the device-info directory/);
    await assert.rejects(store.remove(join(store.cniDir, '..')), /not a file of the device-info directory/);
  });

  it('refuses a CNI directory others can write to', async () => {
    const loose = new FileDeviceInfoStore(join(tmp, 'loose'));
    await mkdir(join(tmp, 'loose'), { mode: 0o777 });
    await chmod(join(tmp, 'loose'), 0o777);
    await assert.rejects(loose.prepare(join(loose.cniDir, 'x'), undefined), /writable by group or others/);
  });
});
