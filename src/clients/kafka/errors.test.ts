import kafkajs from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { DownstreamError } from '../../errors.js';
import { confluentErrorClassifier, confluentErrorMapper } from './confluent/errors.js';
import { fromKafkajs, isRetriableKafkajsError } from './kafkajs/errors.js';

const { KafkaJSConnectionError, KafkaJSNonRetriableError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError } = kafkajs;

describe('kafkajs errors', () => {
  it('treats a refused connection (a broker restarting) as retriable', () => {
    expect(isRetriableKafkajsError(new KafkaJSConnectionError('connect ECONNREFUSED'))).toBe(true);
  });

  it('keeps "retries exceeded" as retriable as what it gave up on', () => {
    const onConnection = new KafkaJSNumberOfRetriesExceeded(new KafkaJSConnectionError('refused'), { retryCount: 5, retryTime: 100 });
    const onBadRequest = new KafkaJSNumberOfRetriesExceeded(new KafkaJSNonRetriableError('invalid'), { retryCount: 5, retryTime: 100 });
    expect(isRetriableKafkajsError(onConnection)).toBe(true);
    expect(isRetriableKafkajsError(onBadRequest)).toBe(false);
  });

  // kafkajs builds protocol errors from its error-code table entries; its .d.ts only admits Error | string.
  const protocolError = (entry: { message: string; type: string; code: number; retriable: boolean }) =>
    new KafkaJSProtocolError(entry as unknown as Error);

  it("follows the broker's verdict on protocol errors", () => {
    const tooLarge = protocolError({ message: 'too large', type: 'MESSAGE_TOO_LARGE', code: 10, retriable: false });
    const leaderMoved = protocolError({ message: 'not leader', type: 'NOT_LEADER_FOR_PARTITION', code: 6, retriable: true });
    expect(isRetriableKafkajsError(tooLarge)).toBe(false);
    expect(isRetriableKafkajsError(leaderMoved)).toBe(true);
  });

  it('does not retry errors that are not from kafkajs (bugs)', () => {
    expect(isRetriableKafkajsError(new TypeError('x is undefined'))).toBe(false);
  });

  it('wraps into a DownstreamError naming adapter and operation, with the cause kept', () => {
    const cause = new KafkaJSConnectionError('refused');
    const err = fromKafkajs('send to samples', cause);
    expect(err).toBeInstanceOf(DownstreamError);
    expect(err.message).toBe('kafka (kafkajs) send to samples failed: refused');
    expect(err.cause).toBe(cause);
    expect(err.retriable).toBe(true);
  });
});

describe('confluent errors', () => {
  const codes = { ERR__TRANSPORT: -195, ERR_MSG_SIZE_TOO_LARGE: 10, ERR_TOPIC_ALREADY_EXISTS: 36 };
  const isRetriable = confluentErrorClassifier(codes);
  const libError = (code: number, extra: object = {}) => Object.assign(new Error(`code ${code}`), { code, ...extra });

  it('retries transport failures and refuses permanent ones', () => {
    expect(isRetriable(libError(-195))).toBe(true);
    expect(isRetriable(libError(10))).toBe(false);
  });

  it('never retries a fatal error, whatever its code', () => {
    expect(isRetriable(libError(-195, { fatal: true }))).toBe(false);
  });

  it('retries an aggregate only if every part is retriable', () => {
    expect(isRetriable({ errors: [libError(-195), libError(36)] })).toBe(false);
    expect(isRetriable({ errors: [libError(-195), libError(-195)] })).toBe(true);
  });

  it('does not retry errors without a Kafka code (bugs)', () => {
    expect(isRetriable(new RangeError('bad'))).toBe(false);
  });

  it('maps into a DownstreamError', () => {
    const err = confluentErrorMapper(codes)('commit', libError(-195));
    expect(err.message).toBe('kafka (confluent) commit failed: code -195');
    expect(err.retriable).toBe(true);
  });
});
