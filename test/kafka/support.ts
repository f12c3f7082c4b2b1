/** Helpers for the Kafka conformance suite: names, message factories, a recording consumer, the broker. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { isRetriable } from '../../src/errors.js';
import type {
  ConsumedBatch,
  ConsumedMessage,
  ConsumerOptions,
  KafkaClient,
  KafkaConsumer,
  OutgoingMessage,
  RevokeReason,
  TopicPartition,
} from '../../src/clients/kafka/index.js';

import type { KafkaLogger } from '../../src/clients/kafka/index.js';

const run = promisify(execFile);
const REPO_ROOT = path.resolve(import.meta.dirname, '../..');

export const BROKERS = (process.env.WEIR_KAFKA_BROKERS ?? '127.0.0.1:19092').split(',');

/** Keeps the clients' log lines (a restart test makes hundreds) to print only for a failed test. */
export class CapturedLog implements KafkaLogger {
  private lines: string[] = [];
  error = (fields: object, message: string) => this.add('error', fields, message);
  warn = (fields: object, message: string) => this.add('warn', fields, message);
  info = (fields: object, message: string) => this.add('info', fields, message);
  debug = (fields: object, message: string) => this.add('debug', fields, message);

  /** Everything logged since the last call. */
  take(): string[] {
    return this.lines.splice(0);
  }

  private add(level: string, fields: object, message: string): void {
    this.lines.push(`${new Date().toISOString()} ${level} ${message} ${JSON.stringify(fields)}`);
  }
}

let counter = 0;
/** Topic and group names unique per test and per run, so tests never see each other's data. */
export function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}-${Date.now().toString(36)}-${process.pid}-${counter}`;
}

export function makeMessages(count: number, fields: (i: number) => Partial<OutgoingMessage> = () => ({})): OutgoingMessage[] {
  return Array.from({ length: count }, (_, i) => ({
    key: Buffer.from(`key-${i}`),
    value: Buffer.from(`value-${i}`),
    ...fields(i),
  }));
}

export async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export type GroupEvent = { kind: 'assigned'; partitions: TopicPartition[] } | { kind: 'revoked'; partitions: TopicPartition[]; reason: RevokeReason };

/** A consumer that records everything it is given; tests read the records and steer it. */
export class RecordingConsumer {
  readonly batches: ConsumedBatch[] = [];
  readonly events: GroupEvent[] = [];
  readonly errors: Error[] = [];
  readonly consumer: KafkaConsumer;
  /** Runs inside the revoke hook, before the partitions move. */
  onRevoked: (partitions: TopicPartition[], reason: RevokeReason) => Promise<void> = async () => undefined;

  constructor(client: KafkaClient, options: ConsumerOptions) {
    this.consumer = client.consumer({ sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000, fetchMaxWaitMs: 200, ...options });
  }

  start(): Promise<void> {
    return this.consumer.start({
      onBatch: async (batch) => {
        this.batches.push(batch);
      },
      onPartitionsAssigned: (partitions) => {
        this.events.push({ kind: 'assigned', partitions });
      },
      onPartitionsRevoked: async (partitions, reason) => {
        this.events.push({ kind: 'revoked', partitions, reason });
        await this.onRevoked(partitions, reason);
      },
      onError: (error) => {
        this.errors.push(error);
      },
    });
  }

  get messages(): Array<ConsumedMessage & TopicPartition> {
    return this.batches.flatMap((b) => b.messages.map((m) => ({ ...m, topic: b.topic, partition: b.partition })));
  }

  values(): string[] {
    return this.messages.map((m) => m.value?.toString() ?? '<null>');
  }

  waitForCount(count: number, timeoutMs?: number): Promise<void> {
    return waitFor(`${count} messages (have ${this.messages.length})`, () => this.messages.length >= count, timeoutMs);
  }

  /** Highest "next offset" seen per partition: what a consumer that finished these batches commits. */
  processedOffsets(partitions?: TopicPartition[]): Array<TopicPartition & { offset: string }> {
    const next = new Map<string, { topic: string; partition: number; offset: string }>();
    for (const b of this.batches) {
      if (partitions && !partitions.some((p) => p.topic === b.topic && p.partition === b.partition)) continue;
      const key = `${b.topic}/${b.partition}`;
      const prev = next.get(key);
      if (!prev || BigInt(b.nextOffset) > BigInt(prev.offset)) next.set(key, { topic: b.topic, partition: b.partition, offset: b.nextOffset });
    }
    return [...next.values()];
  }
}

/**
 * Retry a call while it fails with a retriable error (what weir's runtime does around clients), and
 * fail at once on a non-retriable one: the suite checks that outages surface as retriable.
 */
export async function retryRetriable<T>(what: string, call: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await call();
    } catch (err) {
      if (!isRetriable(err)) throw err;
      if (Date.now() > deadline) throw new Error(`${what} still failing after ${timeoutMs} ms`, { cause: err });
      await sleep(500);
    }
  }
}

/** Stop and start the test broker through the services script (same data directory, same port). */
export async function restartBroker(): Promise<void> {
  const script = path.join(REPO_ROOT, 'scripts/services.sh');
  await run('bash', [script, 'down', 'kafka'], { cwd: REPO_ROOT });
  await run('bash', [script, 'up', 'kafka'], { cwd: REPO_ROOT, timeout: 150_000 });
}
