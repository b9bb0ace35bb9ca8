import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ELIDED_STRING_PREFIX, ListItemSplitter } from './list-item-splitter.ts';

function split(
  text: string,
  cuts: number[],
  maxString?: number,
): { items: unknown[]; envelope: Record<string, unknown> } {
  const items: unknown[] = [];
  const s = new ListItemSplitter((item) => items.push(item), maxString);
  const bytes = Buffer.from(text, 'utf8');
  let from = 0;
  for (const cut of [...cuts.map((c) => c % (bytes.length + 1))].sort((a, b) => a - b)) {
    s.push(bytes.subarray(from, cut));
    from = cut;
  }
  s.push(bytes.subarray(from));
  return { items, envelope: s.end() };
}

describe('ListItemSplitter', () => {
  it('yields every item and keeps the envelope, however the bytes are cut', () => {
    fc.assert(
      fc.property(
        fc.array(fc.dictionary(fc.string(), fc.jsonValue()), { maxLength: 8 }),
        fc.string(),
        fc.array(fc.nat(), { maxLength: 12 }),
        (items, token, cuts) => {
          const list = {
            kind: 'NetworkAttachmentDefinitionList',
            metadata: { resourceVersion: '42', continue: token },
            items,
            after: ['items', { x: '[' }],
          };
          const text = JSON.stringify(list);
          const out = split(text, cuts);
          assert.deepEqual(out.items, JSON.parse(JSON.stringify(items)));
          assert.deepEqual(out.envelope, { ...JSON.parse(text), items: [] });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('replaces the strings of items longer than the bound by their length, however cut', () => {
    const sent = (x: string) => Buffer.byteLength(JSON.stringify(x).slice(1, -1));
    const elide = (v: unknown, max: number): unknown => {
      if (typeof v === 'string') return sent(v) > max ? `${ELIDED_STRING_PREFIX}${sent(v)}` : v;
      if (Array.isArray(v)) return v.map((x) => elide(x, max));
      if (v && typeof v === 'object')
        return Object.fromEntries(
          Object.entries(v).map(([k, x]) => [elide(k, max) as string, elide(x, max)]),
        );
      return v;
    };
    fc.assert(
      fc.property(
        fc.array(fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue()), { maxLength: 6 }),
        fc.nat({ max: 20 }),
        fc.array(fc.nat(), { maxLength: 16 }),
        (items, max, cuts) => {
          const text = JSON.stringify({ metadata: { resourceVersion: '1' }, items });
          const out = split(text, cuts, max);
          assert.deepEqual(out.items, elide(JSON.parse(JSON.stringify(items)), max));
        },
      ),
      { numRuns: 400 },
    );
    const big = JSON.stringify({ items: [{ spec: { config: `{"pad":"${'x'.repeat(1 << 20)}"}` } }] });
    const out = split(big, [1000, 70_000, 500_000], 64 * 1024);
    assert.deepEqual(out.items, [{ spec: { config: `${ELIDED_STRING_PREFIX}${(1 << 20) + 14}` } }]);
  });

  it('refuses a truncated body and an envelope that is not a LIST', () => {
    const s = new ListItemSplitter(() => {});
    s.push(Buffer.from('{"metadata":{},"items":[{"a":"b'));
    assert.throws(() => s.end(), /ended before/);
    const big = new ListItemSplitter(() => {}, undefined, 16);
    assert.throws(
      () => big.push(Buffer.from(JSON.stringify({ metadata: { x: 'y'.repeat(64) } }))),
      /outside/,
    );
  });
});
