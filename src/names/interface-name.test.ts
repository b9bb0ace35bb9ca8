import assert from 'node:assert/strict';
import { test } from 'node:test';
import { interfaceNameProblem } from './interface-name.ts';

test('refuses what the kernel would refuse later, after other attachments were made', () => {
  for (const name of ['a\u00a0b', 'net\u2020', 'a\u2028b', 'a\u3000b', 'a\u0085b'])
    assert.ok(interfaceNameProblem(name), JSON.stringify(name));
});

test('refuses invisible formatting characters, keeps other non-ASCII letters', () => {
  for (const name of ['a\u202eb', 'net\u200b1']) assert.match(interfaceNameProblem(name) ?? '', /invisible/);
  assert.ok(interfaceNameProblem('\ufeffeth0'), 'a byte-order mark');
  for (const name of ['é'.repeat(7), 'données0', 'сеть1'])
    assert.equal(interfaceNameProblem(name), undefined, name);
});
