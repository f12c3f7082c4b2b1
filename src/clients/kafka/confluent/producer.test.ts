import { describe, expect, it } from 'vitest';
import { DownstreamError } from '../../../errors.js';
import { resolveClientConfig, resolveProducerOptions } from '../config.js';
import type { RdKafkaProducerConstructor } from './api.js';
import { confluentErrorMapper } from './errors.js';
import { ConfluentProducer } from './producer.js';

type Listener = (...args: unknown[]) => void;

/** librdkafka's producer as the adapter uses it; deliveries are reported only when told to. */
class FakeRdKafkaProducer {
  static last: FakeRdKafkaProducer | undefined;
  readonly listeners = new Map<string, Listener>();
  readonly opaques: unknown[] = [];
  constructor() {
    FakeRdKafkaProducer.last = this;
  }
  on(event: string, listener: Listener) {
    this.listeners.set(event, listener);
    return this;
  }
  connect(_options: unknown, callback: (err: unknown) => void) {
    callback(null);
  }
  setPollInBackground() {}
  produce(_topic: string, _partition: number, _value: unknown, _key: unknown, _timestamp: number, opaque: unknown) {
    this.opaques.push(opaque);
  }
  deliver(count: number) {
    for (const opaque of this.opaques.splice(0, count)) this.listeners.get('delivery-report')!(null, { opaque });
  }
  disconnect(callback: (err: unknown) => void) {
    callback(null);
  }
}

function producer(): ConfluentProducer {
  const client = resolveClientConfig({ adapter: 'confluent', brokers: ['127.0.0.1:1'], clientId: 'test', logLevel: 'nothing' });
  return new ConfluentProducer(FakeRdKafkaProducer as unknown as RdKafkaProducerConstructor, client, resolveProducerOptions('confluent', {}), confluentErrorMapper({}));
}

const message = (n: number) => ({ key: Buffer.from([n]), value: Buffer.from([n]) });

describe('ConfluentProducer', () => {
  it('resolves a send once every one of its messages has a delivery report', async () => {
    const p = producer();
    let done = false;
    const sent = p.send('t', [message(1), message(2)]).then(() => (done = true));
    await new Promise((resolve) => setImmediate(resolve));
    FakeRdKafkaProducer.last!.deliver(1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(done).toBe(false);
    FakeRdKafkaProducer.last!.deliver(1);
    await sent;
    expect(done).toBe(true);
  });

  it('fails, retriably, a send still waiting for delivery reports when the producer disconnects', async () => {
    const p = producer();
    const sent = p.send('t', [message(1), message(2)]);
    const outcome = sent.then(
      () => 'resolved',
      (err: unknown) => err,
    );
    await new Promise((resolve) => setImmediate(resolve));
    FakeRdKafkaProducer.last!.deliver(1);
    await p.disconnect();
    const err = await outcome;
    expect(err).toBeInstanceOf(DownstreamError);
    expect(err).toMatchObject({ retriable: true, message: expect.stringMatching(/closed before every delivery was confirmed/) });
  });
});
