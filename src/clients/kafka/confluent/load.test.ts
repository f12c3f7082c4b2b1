import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../errors.js';
import { createKafkaClient } from '../index.js';
import { loadConfluentKafkaJS } from './load.js';

function notFound(name: string): never {
  const err = new Error(`Cannot find module '${name}'`) as NodeJS.ErrnoException;
  err.code = 'MODULE_NOT_FOUND';
  throw err;
}

describe('loading the optional confluent package', () => {
  it('says how to install it when it is missing', () => {
    expect(() => loadConfluentKafkaJS(notFound)).toThrow(ConfigError);
    expect(() => loadConfluentKafkaJS(notFound)).toThrow(/not installed: run scripts\/install-confluent\.sh/);
  });

  it('tells a native module that does not load apart from a missing package', () => {
    const brokenBinding = () => {
      throw new Error('Could not locate the bindings file');
    };
    expect(() => loadConfluentKafkaJS(brokenBinding)).toThrow(/installed but does not load \(Could not locate the bindings file\)/);
  });

  it('rejects a package without the KafkaJS API', () => {
    expect(() => loadConfluentKafkaJS(() => ({}))).toThrow(/has no KafkaJS API/);
  });

  it('fails the factory, not a later call, when adapter confluent is chosen without the package', () => {
    const build = () =>
      createKafkaClient({ adapter: 'confluent', brokers: ['127.0.0.1:19092'], clientId: 'weir' }, { loadModule: notFound });
    expect(build).toThrow(ConfigError);
  });

  it('is not needed by the kafkajs adapter', () => {
    const client = createKafkaClient({ adapter: 'kafkajs', brokers: ['127.0.0.1:19092'], clientId: 'weir' }, { loadModule: notFound });
    expect(client.adapter).toBe('kafkajs');
  });
});
