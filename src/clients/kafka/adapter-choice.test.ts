import { describe, expect, it } from 'vitest';
import { chooseKafkaAdapter } from './adapter-choice.js';

const missing = (name: string): never => {
  const err = new Error(`Cannot find module '${name}'`) as NodeJS.ErrnoException;
  err.code = 'MODULE_NOT_FOUND';
  throw err;
};
const fakeLibrary = () => ({ KafkaJS: { Kafka: class {} }, Producer: class {} });

describe('choosing the Kafka adapter', () => {
  it('keeps an explicit choice without loading anything', () => {
    expect(chooseKafkaAdapter('kafkajs', missing)).toEqual({ adapter: 'kafkajs' });
    expect(chooseKafkaAdapter('confluent', missing)).toEqual({ adapter: 'confluent' });
  });

  it('auto takes confluent when the package loads', () => {
    expect(chooseKafkaAdapter('auto', fakeLibrary)).toEqual({ adapter: 'confluent' });
  });

  it('auto falls back to kafkajs when the package is missing or broken, saying why', () => {
    const fallback = chooseKafkaAdapter('auto', missing);
    expect(fallback.adapter).toBe('kafkajs');
    expect(fallback.fallbackReason).toMatch(/not installed: run scripts\/install-confluent\.sh/);
    const broken = chooseKafkaAdapter('auto', () => {
      throw new Error('Could not locate the bindings file');
    });
    expect(broken).toMatchObject({ adapter: 'kafkajs', fallbackReason: expect.stringMatching(/does not load/) });
  });
});
