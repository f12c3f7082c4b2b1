import { describe, expect, it } from 'vitest';
import type { Label } from '../remote-write/types.js';
import { seriesHash } from './series-hash.js';

describe('seriesHash', () => {
  it('hashes exactly name 0xFF value 0xFF per label, in UTF-8, whatever the characters', async () => {
    const { h64Raw } = await (await import('xxhash-wasm')).default();
    const labels: Label[] = [
      { name: '__name__', value: 'http_requests_total' },
      { name: 'path', value: '/é/€/😀' },
      { name: 'zone', value: 'ascii-only' },
    ];
    const bytes = Buffer.concat(labels.flatMap((l) => [Buffer.from(l.name, 'utf8'), Buffer.from([0xff]), Buffer.from(l.value, 'utf8'), Buffer.from([0xff])]));
    expect(seriesHash(labels)).toBe(h64Raw(new Uint8Array(bytes), 0n));
  });

  it('is xxHash64 with seed 0 (the empty input gives the reference value)', () => {
    expect(seriesHash([])).toBe(0xef46db3751d8e999n);
  });

  it('separates name and value, so shifting a character between them changes the hash', () => {
    expect(seriesHash([{ name: 'ab', value: 'c' }])).not.toBe(seriesHash([{ name: 'a', value: 'bc' }]));
  });

  it('handles multi-byte UTF-8 and long label sets', () => {
    const long: Label[] = Array.from({ length: 200 }, (_, i) => ({ name: `l${String(i).padStart(3, '0')}`, value: 'é€😀'.repeat(20) }));
    expect(seriesHash(long)).toBe(seriesHash(long.map((l) => ({ ...l }))));
    expect(seriesHash(long)).not.toBe(seriesHash(long.slice(1)));
  });
});
