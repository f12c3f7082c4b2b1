import { describe, expect, it } from 'vitest';
import { chunkBatch, nextOffsetAfter, toConsumedMessage } from './messages.js';

describe('consumed message conversion', () => {
  it('turns string headers into buffers and keeps the last of a repeated header', () => {
    const message = toConsumedMessage({
      offset: '7',
      key: null,
      value: Buffer.from('v'),
      timestamp: '1700000000123',
      headers: { a: 'text', b: [Buffer.from('first'), Buffer.from('last')], gone: undefined },
    });
    expect(message).toEqual({
      offset: '7',
      key: null,
      value: Buffer.from('v'),
      timestamp: 1_700_000_000_123,
      headers: { a: Buffer.from('text'), b: Buffer.from('last') },
    });
  });

  it('computes the next offset exactly beyond 2^53', () => {
    expect(nextOffsetAfter('9007199254740993')).toBe('9007199254740994');
  });
});

describe('chunkBatch', () => {
  const messages = Array.from({ length: 5 }, (_, i) => ({ offset: String(10 + i), key: null, value: null, headers: {}, timestamp: 0 }));

  it('splits into ordered chunks of at most max, each with its own next offset', () => {
    const chunks = chunkBatch({ topic: 't', partition: 2, highWatermark: '15', messages }, 2);
    expect(chunks.map((c) => c.messages.map((m) => m.offset))).toEqual([['10', '11'], ['12', '13'], ['14']]);
    expect(chunks.map((c) => c.nextOffset)).toEqual(['12', '14', '15']);
    expect(chunks.every((c) => c.topic === 't' && c.partition === 2 && c.highWatermark === '15')).toBe(true);
  });
});
