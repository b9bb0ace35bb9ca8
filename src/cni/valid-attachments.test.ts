import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseValidAttachments, ValidAttachmentsError } from './valid-attachments.ts';

const KEY = 'cni.dev/valid-attachments';

describe('parseValidAttachments', () => {
  it('reads the list, and the tag-era key when the new one is absent', () => {
    const list = [{ containerID: 'c1', ifname: 'eth0' }];
    assert.deepEqual(parseValidAttachments({ [KEY]: list }), [{ containerId: 'c1', ifName: 'eth0' }]);
    assert.deepEqual(parseValidAttachments({ 'cni.dev/attachments': list }), [
      { containerId: 'c1', ifName: 'eth0' },
    ]);
    assert.deepEqual(parseValidAttachments({ [KEY]: [] }), [], 'an empty list means nothing is in use');
  });

  it('matches keys case-insensitively, as Go runtimes decode them', () => {
    assert.deepEqual(parseValidAttachments({ [KEY]: [{ containerid: 'c1', IFNAME: 'net1' }] }), [
      { containerId: 'c1', ifName: 'net1' },
    ]);
    assert.deepEqual(parseValidAttachments({ 'CNI.dev/Valid-Attachments': [{ ContainerId: 'c2' }] }), [
      { containerId: 'c2', ifName: '' },
    ]);
  });

  it('refuses a list that is missing, null, a string, or has an entry without a container ID', () => {
    for (const plugin of [
      {},
      { [KEY]: null },
      { [KEY]: 'c1' },
      { [KEY]: { containerID: 'c1' } },
      { [KEY]: [null] },
      { [KEY]: ['c1'] },
      { [KEY]: [{ container: 'c1', ifname: 'eth0' }] },
      { [KEY]: [{ containerID: 7, ifname: 'eth0' }] },
      { [KEY]: [{ containerID: 'c1', ifname: 0 }] },
      { [KEY]: null, 'cni.dev/attachments': [{ containerID: 'c1' }] },
    ])
      assert.throws(() => parseValidAttachments(plugin), ValidAttachmentsError, JSON.stringify(plugin));
  });
});
