import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isUlid, newId, ulid } from '../src/lib/ids.ts';

test('ids made in the same millisecond sort in the order they were made, even when the clock steps back', () => {
  const ids = Array.from({ length: 20_000 }, () => newId('event'));
  for (let i = 1; i < ids.length; i++) assert.ok(ids[i - 1]! < ids[i]!, `${ids[i - 1]} < ${ids[i]}`);
  const a = ulid(1_000_000);
  const b = ulid(1_000_000);
  const c = ulid(999_999); // the clock stepped back
  assert.ok(a < b && b < c, `${a} < ${b} < ${c}`);
  for (const id of [a, b, c]) assert.ok(isUlid(id));
  assert.equal(new Set(ids).size, ids.length);
});
