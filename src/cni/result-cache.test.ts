import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { CniError } from './cni-error.ts';
import { MemoryResultCache } from './memory-result-cache.ts';
import {
  cacheFileName,
  decodeCacheRecord,
  encodeCacheRecord,
  type ResultCacheRecord,
} from './result-cache.ts';

const record: ResultCacheRecord = {
  kind: 'cniCacheV1',
  containerId: 'c1',
  config: Buffer.from('{"name":"net"}').toString('base64'),
  ifName: 'eth0',
  networkName: 'net',
  netns: '/run/netns/p',
  cniArgs: [['K8S_POD_NAME', 'web']],
  capabilityArgs: { portMappings: [] },
  result: { cniVersion: '1.0.0' },
};
const key = { networkName: 'net', containerId: 'c1', ifName: 'eth0' };

test('file name and body follow libcni', () => {
  assert.equal(cacheFileName(key), 'net-c1-eth0');
  assert.deepEqual(Object.keys(JSON.parse(encodeCacheRecord(record))), [
    'kind',
    'containerId',
    'config',
    'ifName',
    'networkName',
    'netns',
    'cniArgs',
    'capabilityArgs',
    'result',
  ]);
  assert.deepEqual(decodeCacheRecord(encodeCacheRecord(record), key), record);
  assert.throws(() => cacheFileName({ ...key, containerId: '../x' }), CniError);
});

test('a libcni-written record (null args) and a pre-2019 bare result decode', () => {
  const goWritten = JSON.stringify({ ...record, cniArgs: null, capabilityArgs: null });
  assert.deepEqual(decodeCacheRecord(goWritten, key).cniArgs, []);
  const bare = decodeCacheRecord('{"cniVersion":"0.3.1","ips":[]}', key);
  assert.deepEqual(bare.result, { cniVersion: '0.3.1', ips: [] });
  assert.equal(bare.containerId, 'c1');
  assert.equal(decodeCacheRecord('{"cniVersion":"0.3.1"}'), undefined, 'bare results cannot be listed');
  assert.throws(
    () => decodeCacheRecord('garbage', key),
    (e: unknown) => e instanceof CniError && e.code === 6,
  );
  assert.throws(() => decodeCacheRecord(JSON.stringify({ ...record, ifName: 3 }), key), /ifName/);
});

test('MemoryResultCache: get/put/delete/list(containerId)', async () => {
  const cache = new MemoryResultCache();
  assert.equal(await cache.get(key), undefined);
  await cache.put(record);
  await cache.put({ ...record, containerId: 'c2' });
  await cache.put({ ...record, networkName: 'other' });
  cache.files.set('net-c3-eth0', 'garbage');
  assert.deepEqual(await cache.get(key), record);
  assert.equal((await cache.list()).length, 3);
  assert.deepEqual(
    (await cache.list('c1')).map((r) => r.networkName),
    ['net', 'other'],
  );
  await cache.delete(key);
  await cache.delete(key);
  assert.equal(await cache.get(key), undefined);
  await assert.rejects(cache.get({ ...key, containerId: 'c3' }), CniError);
});

test('property: encode then decode round-trips; any text decodes or throws CniError 6', () => {
  const pair = fc.tuple(fc.string(), fc.string());
  const arb = fc.record({
    containerId: fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,20}$/),
    ifName: fc.stringMatching(/^[a-z][a-z0-9]{0,14}$/),
    networkName: fc.stringMatching(/^[a-z0-9][a-z0-9.-]{0,20}$/),
    config: fc.base64String(),
    netns: fc.string(),
    cniArgs: fc.array(pair),
    capabilityArgs: fc.dictionary(fc.string(), fc.jsonValue()),
    result: fc.jsonValue(),
  });
  fc.assert(
    fc.property(arb, (fields) => {
      const rec: ResultCacheRecord = { kind: 'cniCacheV1', ...JSON.parse(JSON.stringify(fields)) };
      assert.deepEqual(decodeCacheRecord(encodeCacheRecord(rec), rec), rec);
    }),
  );
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.json()), (text) => {
      try {
        decodeCacheRecord(text, key);
        decodeCacheRecord(text);
      } catch (e) {
        assert.ok(e instanceof CniError && e.code === 6);
      }
    }),
  );
});

test('a malformed cniCacheV1 record is refused naming the field (code 6), libcni zero values are taken', () => {
  const base = { kind: 'cniCacheV1', containerId: 'c1', ifName: 'net1', networkName: 'n', result: {} };
  const decode = (extra: Record<string, unknown>) => decodeCacheRecord(JSON.stringify({ ...base, ...extra }));
  for (const [field, value] of [
    ['capabilityArgs', []],
    ['cniArgs', [['K', 'V', 'extra']]],
    ['cniArgs', [['K', 1]]],
    ['ifName', 3],
    ['config', 7],
  ] as const)
    assert.throws(
      () => decode({ [field]: value }),
      (err: unknown) =>
        err instanceof CniError &&
        err.code === 6 &&
        err.msg.includes(`field "${field}" is missing or malformed`),
      `${field}: ${JSON.stringify(value)}`,
    );
  assert.throws(
    () => decodeCacheRecord(JSON.stringify({ kind: 'cniCacheV1', ifName: 'x', networkName: 'n' })),
    /"containerId"/,
  );
  const zero = decode({ config: null, netns: null, cniArgs: null, capabilityArgs: null, result: undefined });
  assert.deepEqual(
    [zero?.config, zero?.netns, zero?.cniArgs, zero?.capabilityArgs, zero?.result],
    ['', '', [], {}, undefined],
  );
});
